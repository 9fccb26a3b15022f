using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Model.Loading;

namespace IlgpuDiffusion.Model.Nn;

/// <summary>The sub-module names of an attention layer's four projections.</summary>
public sealed record AttentionNames(string Query, string Key, string Value, string Output)
{
    /// <summary>diffusers' Attention: <c>to_q</c>, <c>to_k</c>, <c>to_v</c>, <c>to_out.0</c> (UNet, VAE).</summary>
    public static AttentionNames Diffusers { get; } = new("to_q", "to_k", "to_v", "to_out.0");
}

/// <summary>
/// Multi-head scaled dot-product attention with its projections: out = W_o · softmax(Q Kᵀ/√d) V + b_o, with
/// Q = x·W_qᵀ, K, V = context·W_{k,v}ᵀ (context = x for self-attention). Tokens are [N, L, C]; the heads are the
/// channel groups of the projections (no transposes). The projections are <see cref="LinearLayer"/>s, so LoRA
/// adapters attach to <see cref="Key"/> and <see cref="Value"/> (C-LoRA's targets in cross-attention).
/// </summary>
public sealed class MultiHeadAttention : Module
{
    private readonly int heads;

    /// <summary>Loads the four projections under <paramref name="prefix"/> (e.g. <c>…transformer_blocks.0.attn2.</c>).</summary>
    public MultiHeadAttention(WeightSet weights, string prefix, AttentionNames names, int queryDim, int contextDim, int heads, bool projectionBias)
    {
        if (heads <= 0 || queryDim % heads != 0)
            throw new ArgumentException($"{prefix}: {queryDim} channels do not split into {heads} heads.", nameof(heads));
        this.heads = heads;
        Query = AddChild(LinearLayer.Load(weights, prefix + names.Query, queryDim, queryDim, projectionBias));
        Key = AddChild(LinearLayer.Load(weights, prefix + names.Key, contextDim, queryDim, projectionBias));
        Value = AddChild(LinearLayer.Load(weights, prefix + names.Value, contextDim, queryDim, projectionBias));
        Output = AddChild(LinearLayer.Load(weights, prefix + names.Output, queryDim, queryDim, bias: true));
    }

    public LinearLayer Query { get; }

    public LinearLayer Key { get; }

    public LinearLayer Value { get; }

    public LinearLayer Output { get; }

    /// <summary>x [N, L, C]; <paramref name="context"/> [N, Lk, Ck] for cross-attention (null: self-attention).</summary>
    public Var Forward(Var x, Var? context = null, bool causal = false)
    {
        var source = context ?? x;
        using var q = Query.Forward(x);
        using var k = Key.Forward(source);
        using var v = Value.Forward(source);
        using var attended = Ops.Attention(q, k, v, heads, causal: causal);
        return Output.Forward(attended);
    }
}
