using IlgpuDiffusion.Evaluation.Protocol;

namespace IlgpuDiffusion.Tests.Evaluation;

/// <summary><see cref="LibrarySampler.ConsecutiveSeeds"/>: which requests one batched pipeline call may draw (image i of a batch uses seed + i).</summary>
public sealed class LibrarySamplerTests
{
    [Fact]
    public void Runs_hold_one_prompt_with_consecutive_seeds_in_order_and_at_most_the_batch_limit()
    {
        static SampleRequest Request(string prompt, long seed) => new("rex", SampleKind.Fidelity, 0, prompt, prompt, seed);
        var requests = new[]
        {
            Request("a", 10), Request("a", 11), Request("b", 12), Request("b", 14), Request("b", 15),
            Request("c", 1), Request("c", 2), Request("c", 3), Request("c", 4), Request("c", 5), Request("a", 6),
        };

        var runs = LibrarySampler.ConsecutiveSeeds(requests).Select(run => run.Select(r => (r.Prompt, r.Seed)).ToArray()).ToList();

        Assert.Equal(
        [
            [("a", 10L), ("a", 11L)], [("b", 12L)], [("b", 14L), ("b", 15L)],
            [("c", 1L), ("c", 2L), ("c", 3L), ("c", 4L)], [("c", 5L)], [("a", 6L)],
        ], runs);
        Assert.Equal(requests, runs.SelectMany(run => run).Select(p => Request(p.Prompt, p.Seed)));
    }
}
