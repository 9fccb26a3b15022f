namespace IlgpuDiffusion.Cli.Forward;

/// <summary>The components <c>forward --component</c> accepts, by name.</summary>
internal static class ForwardRunners
{
    public static IReadOnlyDictionary<string, IForwardRunner> All { get; } = new Dictionary<string, IForwardRunner>(StringComparer.Ordinal)
    {
        ["text-encoder"] = new TextEncoderRunner(),
        ["vae-encode"] = new VaeEncodeRunner(),
        ["vae-decode"] = new VaeDecodeRunner(),
        ["unet"] = new UNetRunner(),
    };
}
