using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.CLora.Training;

/// <summary>
/// The settings of one concept's training (docs/clora-spec.md §5). The paper states none of its values; the
/// defaults are Custom Diffusion's optimizer settings with our LoRA/token learning rates (spec §5 [I]).
/// </summary>
public sealed record TrainerOptions
{
    /// <summary>What is trained.</summary>
    public TrainingMethod Method { get; init; } = TrainingMethod.CLora;

    /// <summary>The LoRA rank r (C-LoRA and LoRA).</summary>
    public int Rank { get; init; } = 16;

    /// <summary>
    /// λ, the weight of L_forget = Σ M⊙ΔW² with M = P⊙P (C-LoRA only; LoRA uses 0). Default 1e6 — ours, not the
    /// paper's, whose value is unknown (spec §2). Because M is the square of past deltas whose entries are about
    /// 1e-3–1e-2, the raw L_forget is M·ΔW² ≈ ‖P‖²‖ΔW‖²-scale, orders of magnitude below L_diff ≈ 0.1, so λ must be
    /// very large for the regulariser to act; 1e6 is the middle of the spec's log grid 1e2 … 1e10. Its effect
    /// grows with ‖P‖² as tasks accumulate, so keep it fixed across tasks and watch the logged ratio
    /// λ·L_forget / L_diff.
    /// </summary>
    public float Lambda { get; init; } = 1e6f;

    /// <summary>The base learning rate of the adapter factors (or of the K/V weights for kv-finetune).</summary>
    public float LearningRate { get; init; } = 1e-4f;

    /// <summary>The base learning rate of the concept token's row.</summary>
    public float TokenLearningRate { get; init; } = 5e-3f;

    /// <summary>AdamW β1.</summary>
    public float Beta1 { get; init; } = 0.9f;

    /// <summary>AdamW β2.</summary>
    public float Beta2 { get; init; } = 0.999f;

    /// <summary>AdamW's decoupled weight decay (both groups).</summary>
    public float WeightDecay { get; init; } = 1e-2f;

    /// <summary>AdamW ε.</summary>
    public float Epsilon { get; init; } = 1e-8f;

    /// <summary>The learning-rate schedule.</summary>
    public LearningRateScheduleKind Schedule { get; init; } = LearningRateScheduleKind.Constant;

    /// <summary>Linear warmup optimizer steps.</summary>
    public int WarmupSteps { get; init; }

    /// <summary>The global gradient-norm bound over every trainable tensor.</summary>
    public float MaxGradNorm { get; init; } = 1f;

    /// <summary>Micro-batches per optimizer step (the loss of each is divided by this).</summary>
    public int GradientAccumulation { get; init; } = 1;

    /// <summary>Images per micro-batch.</summary>
    public int BatchSize { get; init; } = 1;

    /// <summary>Optimizer steps.</summary>
    public int Steps { get; init; } = 500;

    /// <summary>The seed of every random choice of the run (adapter start, sampling, timesteps, noise).</summary>
    public ulong Seed { get; init; }

    /// <summary>γ of min-SNR loss weighting, or null for the plain MSE.</summary>
    public float? MinSnrGamma { get; init; }

    /// <summary>The noise offset (added N(0,1)·offset per sample and channel), or null for none.</summary>
    public float? NoiseOffset { get; init; }

    /// <summary>The square training resolution in pixels (a multiple of the VAE's downscale factor).</summary>
    public int Resolution { get; init; } = 512;

    /// <summary>Whether a sample may be mirrored horizontally (a seeded coin per sample).</summary>
    public bool FlipHorizontal { get; init; } = true;

    /// <summary>Save a checkpoint every this many optimizer steps (0 = never).</summary>
    public int CheckpointEvery { get; init; }

    /// <summary>
    /// w of prior preservation: with class images the loss is the concept's MSE + w · the class images' MSE (diffusers'
    /// DreamBooth, whose default 1.0 this is). Unused without class images.
    /// </summary>
    public float PriorLossWeight { get; init; } = 1f;

    /// <summary>Recompute the UNet blocks' activations in backward instead of keeping them (less memory, one more forward).</summary>
    public bool GradientCheckpointing { get; init; }

    /// <summary>λ as the loss uses it: 0 unless the method is C-LoRA.</summary>
    public float EffectiveLambda => Method == TrainingMethod.CLora ? Lambda : 0f;

    /// <summary>The AdamW settings of the adapter (or K/V weight) group at <paramref name="lrFactor"/> × the base rate.</summary>
    public AdamWSettings AdapterSettings(float lrFactor) => new(LearningRate * lrFactor, Beta1, Beta2, Epsilon, WeightDecay);

    /// <summary>The AdamW settings of the token row at <paramref name="lrFactor"/> × its base rate.</summary>
    public AdamWSettings TokenSettings(float lrFactor) => new(TokenLearningRate * lrFactor, Beta1, Beta2, Epsilon, WeightDecay);

    /// <summary>Refuses settings the trainer cannot run, naming the setting.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate()
    {
        static void Positive(int value, string name)
        {
            if (value < 1) throw new ArgumentException($"{name} {value} must be ≥ 1.", name);
        }
        Positive(Rank, nameof(Rank));
        Positive(GradientAccumulation, nameof(GradientAccumulation));
        Positive(BatchSize, nameof(BatchSize));
        Positive(Steps, nameof(Steps));
        Positive(Resolution, nameof(Resolution));
        if (WarmupSteps < 0) throw new ArgumentException($"{nameof(WarmupSteps)} {WarmupSteps} must be ≥ 0.", nameof(WarmupSteps));
        if (CheckpointEvery < 0) throw new ArgumentException($"{nameof(CheckpointEvery)} {CheckpointEvery} must be ≥ 0.", nameof(CheckpointEvery));
        if (!(Lambda >= 0) || !float.IsFinite(Lambda)) throw new ArgumentException($"λ {Lambda} must be finite and ≥ 0.", nameof(Lambda));
        if (!(PriorLossWeight >= 0) || !float.IsFinite(PriorLossWeight))
            throw new ArgumentException($"{nameof(PriorLossWeight)} {PriorLossWeight} must be finite and ≥ 0.", nameof(PriorLossWeight));
        if (MinSnrGamma is { } gamma && (!(gamma > 0) || !float.IsFinite(gamma)))
            throw new ArgumentException($"{nameof(MinSnrGamma)} {gamma} must be finite and > 0.", nameof(MinSnrGamma));
        if (NoiseOffset is { } offset && (!(offset >= 0) || !float.IsFinite(offset)))
            throw new ArgumentException($"{nameof(NoiseOffset)} {offset} must be finite and ≥ 0.", nameof(NoiseOffset));
        if (!(MaxGradNorm > 0) || !float.IsFinite(MaxGradNorm)) throw new ArgumentException($"{nameof(MaxGradNorm)} {MaxGradNorm} must be finite and > 0.", nameof(MaxGradNorm));
        if (!(LearningRate >= 0) || !float.IsFinite(LearningRate))
            throw new ArgumentException($"{nameof(LearningRate)} {LearningRate} must be finite and ≥ 0.", nameof(LearningRate));
        if (!(TokenLearningRate >= 0) || !float.IsFinite(TokenLearningRate))
            throw new ArgumentException($"{nameof(TokenLearningRate)} {TokenLearningRate} must be finite and ≥ 0.", nameof(TokenLearningRate));
        AdapterSettings(1f).Validate();
        TokenSettings(1f).Validate();
    }
}
