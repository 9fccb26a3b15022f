using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Nn;

namespace IlgpuDiffusion.Model.Vae;

/// <summary>
/// The VAE mid-block's spatial self-attention (diffusers' Attention with a group norm and a residual connection):
/// out = x + to_out(attention(group_norm(x))) over the H·W positions as tokens, one head as wide as the channels,
/// with biased q/k/v projections.
/// </summary>
public sealed class VaeAttentionBlock : Module
{
    private readonly GroupNormLayer norm;
    private readonly MultiHeadAttention attention;

    /// <summary>Loads <c>{prefix}group_norm</c> and <c>{prefix}to_q/to_k/to_v/to_out.0</c>.</summary>
    public VaeAttentionBlock(WeightSet weights, string prefix, int channels, int groups)
    {
        norm = AddChild(new GroupNormLayer(weights, prefix + "group_norm", channels, groups, AutoencoderKL.NormEps));
        attention = AddChild(new MultiHeadAttention(weights, prefix, AttentionNames.Diffusers, channels, channels, heads: 1, projectionBias: true));
    }

    /// <summary>x [N, H, W, C] → [N, H, W, C].</summary>
    public Var Forward(Var x)
    {
        int n = x.Shape[0], h = x.Shape[1], w = x.Shape[2], c = x.Shape[3];
        using var normed = norm.Forward(x);
        using var tokens = Ops.Reshape(normed, n, h * w, c);
        using var attended = attention.Forward(tokens);
        using var spatial = Ops.Reshape(attended, n, h, w, c);
        return Ops.Add(x, spatial);
    }
}
