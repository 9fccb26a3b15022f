using IlgpuDiffusion.CLora.Interop;
using IlgpuDiffusion.Model.Nn;
using IlgpuDiffusion.Model.Pipelines;

namespace IlgpuDiffusion.CLora.Generation;

/// <summary>
/// The layers of a loaded pipeline a LoRA or a concept library can change — the UNet's and the text encoder's linear
/// layers (1×1 convs included) and convolutions — by component and diffusers module name, and the
/// <see cref="LoraModuleIndex"/> of them (PyTorch weight shapes, the UNet's LDM names too) that LoRA files are read against.
/// </summary>
internal sealed class PipelineLayers
{
    private readonly Dictionary<LoraComponent, Dictionary<string, FoldTarget>> targets;

    public PipelineLayers(StableDiffusionPipeline pipeline)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        targets = new()
        {
            [LoraComponent.UNet] = Collect(pipeline.UNet),
            [LoraComponent.TextEncoder] = Collect(pipeline.TextEncoder),
        };
        Index = new LoraModuleIndex(Shapes(LoraComponent.UNet), Shapes(LoraComponent.TextEncoder), pipeline.Config.UNet);
    }

    public LoraModuleIndex Index { get; }

    /// <summary>The layer <paramref name="module"/> of <paramref name="component"/>, or null.</summary>
    public FoldTarget? Find(LoraComponent component, string module) => targets[component].GetValueOrDefault(module);

    private static Dictionary<string, FoldTarget> Collect(Module network)
    {
        var found = new Dictionary<string, FoldTarget>(StringComparer.Ordinal);
        foreach (var module in network.Descendants())
        {
            var target = module switch
            {
                LinearLayer linear => FoldTarget.Of(linear),
                Conv2dLayer conv => FoldTarget.Of(conv),
                _ => null,
            };
            if (target is not null) found.Add(target.Name, target);
        }
        return found;
    }

    private Dictionary<string, IReadOnlyList<int>> Shapes(LoraComponent component) =>
        targets[component].Values.ToDictionary(t => t.Name + ".weight", t => t.TorchShape, StringComparer.Ordinal);
}
