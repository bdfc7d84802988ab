namespace EchoKit.Tests.Bench;

/// <summary>
/// The bench's ground-truth checks run alone: they measure the generator's own timing (Little's law), which other
/// tests running beside them in the same process would disturb.
/// </summary>
[CollectionDefinition(nameof(GroundTruthCollection), DisableParallelization = true)]
public sealed class GroundTruthCollection;
