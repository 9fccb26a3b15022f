namespace IlgpuDiffusion.Model.Schedulers;

/// <summary>One scheduler step: x_{t−1}, and the predicted x₀ where the scheduler computes one (diffusers' output).</summary>
public sealed record StepResult(float[] PrevSample, float[]? PredOriginalSample);
