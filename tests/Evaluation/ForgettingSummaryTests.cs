using IlgpuDiffusion.Evaluation.Metrics;

namespace IlgpuDiffusion.Tests.Evaluation;

/// <summary>A_T, P_T, F_T and F*_T on hand-made matrices, worked out by hand in the comments.</summary>
public sealed class ForgettingSummaryTests
{
    [Fact]
    public void HigherIsBetterMatrix()
    {
        // Concept 0 rises to 0.95 after task 1, then falls to 0.75; concept 1 falls from 0.9 to 0.6.
        double[][] m = [[0.8], [0.95, 0.9], [0.75, 0.6, 0.85]];

        var s = ForgettingSummary.Compute(m, MetricDirection.HigherIsBetter);

        Assert.Equal(3, s.Tasks);
        Assert.Equal((0.75 + 0.6 + 0.85) / 3, s.FinalAverage, 1e-15);
        Assert.Equal((0.8 + 0.9 + 0.85) / 3, s.Plasticity, 1e-15);
        Assert.Equal(((0.8 - 0.75) + (0.9 - 0.6)) / 2, s.Forgetting!.Value, 1e-15);   // 0.175
        Assert.Equal(((0.95 - 0.75) + (0.9 - 0.6)) / 2, s.MaxForgetting!.Value, 1e-15); // 0.25
    }

    [Fact]
    public void LowerIsBetterMatrixCountsARiseAsForgetting()
    {
        // KID-like: concept 0 improves to 1.2 after task 1, ends at 2.5; concept 1 worsens from 1.0 to 4.0.
        double[][] m = [[2.0], [1.2, 1.0], [2.5, 4.0, 1.5]];

        var s = ForgettingSummary.Compute(m, MetricDirection.LowerIsBetter);

        Assert.Equal(8.0 / 3, s.FinalAverage, 1e-15);
        Assert.Equal(1.5, s.Plasticity, 1e-15);
        Assert.Equal(((2.5 - 2.0) + (4.0 - 1.0)) / 2, s.Forgetting!.Value, 1e-15);   // 1.75
        Assert.Equal(((2.5 - 1.2) + (4.0 - 1.0)) / 2, s.MaxForgetting!.Value, 1e-15); // 2.15
    }

    [Fact]
    public void ImprovementGivesNegativeForgetting()
    {
        double[][] m = [[0.5], [0.7, 0.6]];

        var s = ForgettingSummary.Compute(m, MetricDirection.HigherIsBetter);

        Assert.Equal(-0.2, s.Forgetting!.Value, 1e-15);
        Assert.Equal(-0.2, s.MaxForgetting!.Value, 1e-15);
    }

    [Fact]
    public void OneTaskHasNoForgettingAndPerTaskSummarisesPrefixes()
    {
        double[][] m = [[0.8], [0.95, 0.9], [0.75, 0.6, 0.85]];

        var perTask = ForgettingSummary.PerTask(m, MetricDirection.HigherIsBetter);

        Assert.Equal(3, perTask.Count);
        Assert.Null(perTask[0].Forgetting);
        Assert.Null(perTask[0].MaxForgetting);
        Assert.Equal(0.8, perTask[0].FinalAverage, 1e-15);
        Assert.Equal((0.95 + 0.9) / 2, perTask[1].FinalAverage, 1e-15);
        Assert.Equal(0.8 - 0.95, perTask[1].Forgetting!.Value, 1e-15);
        Assert.Equal(ForgettingSummary.Compute(m, MetricDirection.HigherIsBetter), perTask[2]);
    }

    [Fact]
    public void RaggedMatrixIsAClearError()
    {
        double[][] m = [[0.8], [0.9]];

        var error = Assert.Throws<ArgumentException>(() => ForgettingSummary.Compute(m, MetricDirection.HigherIsBetter));
        Assert.Contains("row 1 has 1 scores, expected 2", error.Message);
    }
}
