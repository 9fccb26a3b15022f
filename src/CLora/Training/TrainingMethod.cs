namespace IlgpuDiffusion.CLora.Training;

/// <summary>What a task trains (the concept token's row is trained by every method).</summary>
public enum TrainingMethod
{
    /// <summary>C-LoRA: fresh LoRA factors on the K/V projections plus the λ-weighted self-regulariser.</summary>
    CLora,

    /// <summary>Plain LoRA: the same factors with λ = 0 (no protection of past concepts).</summary>
    Lora,

    /// <summary>Custom Diffusion's full fine-tuning of the K/V weights (no adapters, no regulariser).</summary>
    KvFinetune,

    /// <summary>Textual inversion: only the concept token's row.</summary>
    TokenOnly,
}

/// <summary>The learning-rate schedule (diffusers' <c>get_scheduler</c> names), each after a linear warmup.</summary>
public enum LearningRateScheduleKind
{
    /// <summary>The base rate after warmup.</summary>
    Constant,

    /// <summary>Half a cosine from the base rate down to 0 over the steps after warmup.</summary>
    Cosine,

    /// <summary>A straight line from the base rate down to 0 over the steps after warmup.</summary>
    Linear,
}
