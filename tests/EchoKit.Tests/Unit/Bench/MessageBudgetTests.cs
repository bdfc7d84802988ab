using EchoKit.Bench.Internal;

namespace EchoKit.Tests.Bench;

[Trait("Kind", "Unit")]
public sealed class MessageBudgetTests
{
    [Fact]
    public void TakesAtMostWhatIsLeftThenNothing()
    {
        var budget = new MessageBudget(100);

        Assert.Equal(64, budget.Take(64));
        Assert.False(budget.IsEmpty);
        Assert.Equal(36, budget.Take(64));
        Assert.True(budget.IsEmpty);
        Assert.Equal(0, budget.Take(64));
    }

    [Fact]
    public async Task TakersOnManyThreadsShareTheTotalExactly()
    {
        const long total = 1_000_003;
        var budget = new MessageBudget(total);

        var takers = Enumerable.Range(0, 4).Select(seed => Task.Run(() =>
        {
            var random = new Random(seed);
            long mine = 0, got;
            while ((got = budget.Take(random.Next(1, 200))) > 0)
            {
                mine += got;
            }
            return mine;
        }));

        Assert.Equal(total, (await Task.WhenAll(takers)).Sum());
        Assert.True(budget.IsEmpty);
    }
}
