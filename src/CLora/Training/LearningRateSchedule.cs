namespace IlgpuDiffusion.CLora.Training;

/// <summary>The learning-rate multiplier of an optimizer step, as diffusers' <c>get_scheduler</c> LambdaLR lambdas.</summary>
public static class LearningRateSchedule
{
    /// <summary>
    /// The factor applied to the base rates at optimizer step <paramref name="step"/> (0 for the first step):
    /// step / warmup during warmup, then 1 (constant), ½(1 + cos(π·progress)) (cosine) or 1 − progress (linear), with
    /// progress = (step − warmup) / (total − warmup).
    /// </summary>
    public static float Factor(LearningRateScheduleKind kind, int step, int warmupSteps, int totalSteps)
    {
        if (step < warmupSteps) return (float)step / Math.Max(1, warmupSteps);
        double progress = (double)(step - warmupSteps) / Math.Max(1, totalSteps - warmupSteps);
        return kind switch
        {
            LearningRateScheduleKind.Constant => 1f,
            LearningRateScheduleKind.Cosine => (float)Math.Max(0, 0.5 * (1 + Math.Cos(Math.PI * progress))),
            LearningRateScheduleKind.Linear => (float)Math.Max(0, 1 - progress),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown learning-rate schedule."),
        };
    }
}
