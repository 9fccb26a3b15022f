using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.TextEncoder;

namespace IlgpuDiffusion.Cli.Forward;

/// <summary><c>text-encoder</c>: input_ids [N, L] (integers) → last_hidden_state [N, L, C] and pooler_output [N, C].</summary>
internal sealed class TextEncoderRunner : IForwardRunner
{
    public string Summary => "text-encoder: input_ids [N, 77] → last_hidden_state, pooler_output";

    public IReadOnlyDictionary<string, Tensor> Run(Checkpoint checkpoint, ForwardInputs inputs)
    {
        using var ids = inputs.Read("input_ids", DType.I32, "N", "L");
        using var encoder = new ClipTextEncoder(checkpoint.Config.TextEncoder, checkpoint.TextEncoder);
        checkpoint.TextEncoder.Complete();
        using var output = encoder.Encode(ids);
        return new Dictionary<string, Tensor>
        {
            ["last_hidden_state"] = output.LastHiddenState.Value.Share(),
            ["pooler_output"] = output.PoolerOutput.Value.Share(),
        };
    }
}
