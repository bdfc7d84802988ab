using EchoKit.Bench.Internal;

namespace EchoKit.Tests.Bench;

[Trait("Kind", "Unit")]
public sealed class MessageBudgetTests
{
    [Fact]
    public void TakesAtMostWhatIsLeftThenNothing()
    {
        var budget = new MessageBudget(100, workers: 1);

        Assert.Equal(64, budget.Take(64));
        Assert.False(budget.IsEmpty);
        Assert.Equal(36, budget.Take(64));
        Assert.True(budget.IsEmpty);
        Assert.Equal(0, budget.Take(64));
    }

    [Fact]
    public void TakesAnEighthOfAWorkersShareWhileMuchIsLeftAndSmallerOnesNearTheEnd()
    {
        var budget = new MessageBudget(16_000, workers: 2);

        Assert.Equal(1000, budget.Take(1));  // 16,000 / (8 x 2)
        Assert.Equal(937, budget.Take(1));   // 15,000 / 16
        Assert.Equal(5000, budget.Take(5000)); // at least what is asked for
        var takes = new List<long>();
        long taken;
        while ((taken = budget.Take(1)) > 0)
        {
            takes.Add(taken);
        }
        Assert.Equal(16_000 - 1000 - 937 - 5000, takes.Sum());
        Assert.True(takes.Zip(takes.Skip(1)).All(pair => pair.Second <= pair.First), "takes should shrink as the budget does");
        Assert.Equal(1, takes[^1]); // near the end: one at a time
    }

    [Fact]
    public async Task TakersOnManyThreadsShareTheTotalExactly()
    {
        const long total = 1_000_003;
        var budget = new MessageBudget(total, workers: 4);

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
