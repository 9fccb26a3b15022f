namespace IlgpuDiffusion.Cli.Forward;

/// <summary>The components <c>forward --component</c> accepts, by name: networks of an SD checkpoint, and feature extractors.</summary>
internal static class ForwardRunners
{
    public static IReadOnlyDictionary<string, IForwardRunner> All { get; } = new Dictionary<string, IForwardRunner>(StringComparer.Ordinal)
    {
        ["text-encoder"] = new TextEncoderRunner(),
        ["vae-encode"] = new VaeEncodeRunner(),
        ["vae-decode"] = new VaeDecodeRunner(),
        ["unet"] = new UNetRunner(),
    };

    /// <summary>The evaluation feature extractors, whose <c>--model</c> is a Hugging Face CLIP or ViT folder.</summary>
    public static IReadOnlyDictionary<string, IExtractorRunner> Extractors { get; } = new Dictionary<string, IExtractorRunner>(StringComparer.Ordinal)
    {
        ["clip-image"] = new ClipImageRunner(),
        ["clip-text"] = new ClipTextRunner(),
        ["dino"] = new DinoRunner(),
    };
}
