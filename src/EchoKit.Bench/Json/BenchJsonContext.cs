using System.Text.Json.Serialization;

namespace EchoKit.Bench.Json;

/// <summary>Source-generated (trim- and AOT-safe) serialization of the bench JSON.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(BenchJsonDocument))]
[JsonSerializable(typeof(BenchParameters))]
[JsonSerializable(typeof(BenchJsonSample))]
internal sealed partial class BenchJsonContext : JsonSerializerContext;
