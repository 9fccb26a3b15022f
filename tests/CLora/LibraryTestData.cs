using IlgpuDiffusion.CLora.Library;
using Factors = (float[] down, int[] downShape, float[] up, int[] upShape);

namespace IlgpuDiffusion.Tests.CLora;

/// <summary>Small random tasks for concept-library tests: three cross-attention-like layers and a 6-wide token row.</summary>
internal static class LibraryTestData
{
    public const int TokenWidth = 6;

    public static readonly ModelIdentity BaseModel = new(new string('a', 64), ["unet/diffusion_pytorch_model.safetensors"]);

    public static readonly LibraryLayer[] Layers =
    [
        new("down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k", 8, 6),
        new("down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_v", 8, 6),
        new("mid_block.attentions.0.transformer_blocks.0.attn2.to_k", 12, 6),
    ];

    public static LibrarySettings Settings(LibraryMethod method = LibraryMethod.CLora) => new()
    {
        Method = method,
        Lambda = method == LibraryMethod.CLora ? 1e6 : 0,
        Rank = method.StoresFactors() ? 2 : 0,
        TargetPattern = method == LibraryMethod.TokenOnly ? "" : "attn2.to_k|attn2.to_v",
    };

    public static ConceptRecord Record(string name, int rank, string? classWord = null) => new()
    {
        Name = name,
        ClassWord = classWord,
        Rank = rank,
        Training = new TrainingSettings { Steps = 250, BatchSize = 1, LearningRate = 1e-4, TokenLearningRate = 5e-3, Seed = 7, Resolution = 512 },
        TrainedParameters = 1234,
        WallTime = TimeSpan.FromSeconds(61.5),
        Created = new DateTimeOffset(2025, 3, 4, 5, 6, 7, TimeSpan.Zero),
    };

    /// <summary>
    /// Random factors of <paramref name="rank"/> for every layer (of <paramref name="layers"/>, default <see cref="Layers"/>);
    /// the up factor is non-zero, as after training.
    /// </summary>
    public static Dictionary<string, Factors> Factors(Random random, int rank, IReadOnlyList<LibraryLayer>? layers = null) => (layers ?? Layers).ToDictionary(l => l.Name,
        l => (Values(random, rank * l.In), new[] { rank, l.In }, Values(random, l.Out * rank), new[] { l.Out, rank }));

    public static Dictionary<string, (float[] delta, int[] shape)> Deltas(Random random) =>
        Layers.ToDictionary(l => l.Name, l => (Values(random, l.Out * l.In), l.Shape));

    public static float[] Values(Random random, int count) =>
        [.. Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1))];
}
