namespace IlgpuDiffusion.Kernels;

/// <summary>
/// AdamW hyperparameters with torch.optim.AdamW's meaning and defaults; the weight decay is decoupled
/// (p ← p − lr·wd·p before the Adam update).
/// </summary>
public readonly record struct AdamWSettings(
    float LearningRate,
    float Beta1 = 0.9f,
    float Beta2 = 0.999f,
    float Epsilon = 1e-8f,
    float WeightDecay = 1e-2f)
{
    /// <summary>Refuses values torch would refuse (and non-finite ones), naming the setting.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate()
    {
        if (!(LearningRate >= 0f) || !float.IsFinite(LearningRate))
            throw new ArgumentException($"AdamW: learning rate {LearningRate} must be finite and ≥ 0.", nameof(LearningRate));
        if (!(Beta1 >= 0f && Beta1 < 1f))
            throw new ArgumentException($"AdamW: beta1 {Beta1} must lie in [0, 1).", nameof(Beta1));
        if (!(Beta2 >= 0f && Beta2 < 1f))
            throw new ArgumentException($"AdamW: beta2 {Beta2} must lie in [0, 1).", nameof(Beta2));
        if (!(Epsilon > 0f) || !float.IsFinite(Epsilon))
            throw new ArgumentException($"AdamW: epsilon {Epsilon} must be finite and > 0.", nameof(Epsilon));
        if (!(WeightDecay >= 0f) || !float.IsFinite(WeightDecay))
            throw new ArgumentException($"AdamW: weight decay {WeightDecay} must be finite and ≥ 0.", nameof(WeightDecay));
    }
}
