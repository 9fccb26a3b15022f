using IlgpuDiffusion.CLora.Training;

namespace IlgpuDiffusion.Tests.CLora;

/// <summary>The learning-rate factors against diffusers' get_scheduler lambdas.</summary>
public sealed class LearningRateScheduleTests
{
    [Theory]
    [InlineData(LearningRateScheduleKind.Constant, 0, 0f)]
    [InlineData(LearningRateScheduleKind.Constant, 5, 0.5f)]
    [InlineData(LearningRateScheduleKind.Constant, 10, 1f)]
    [InlineData(LearningRateScheduleKind.Constant, 99, 1f)]
    [InlineData(LearningRateScheduleKind.Linear, 55, 0.5f)]
    [InlineData(LearningRateScheduleKind.Linear, 100, 0f)]
    [InlineData(LearningRateScheduleKind.Cosine, 10, 1f)]
    [InlineData(LearningRateScheduleKind.Cosine, 55, 0.5f)]
    [InlineData(LearningRateScheduleKind.Cosine, 100, 0f)]
    public void Factors_follow_warmup_then_the_schedule(LearningRateScheduleKind kind, int step, float expected) =>
        Assert.Equal(expected, LearningRateSchedule.Factor(kind, step, warmupSteps: 10, totalSteps: 100), 5);
}
