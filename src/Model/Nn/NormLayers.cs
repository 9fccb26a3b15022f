using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Model.Loading;

namespace IlgpuDiffusion.Model.Nn;

/// <summary>Group normalization over channels-last input with affine <c>{name}.weight</c>/<c>{name}.bias</c> [C], optionally fused with SiLU.</summary>
public sealed class GroupNormLayer : Module
{
    private readonly int groups;
    private readonly float eps;

    public GroupNormLayer(WeightSet weights, string name, int channels, int groups, float eps)
    {
        this.groups = groups;
        this.eps = eps;
        Gamma = AddParameter(name + ".weight", Var.Constant(weights.Take(name + ".weight", [channels]), name + ".weight"));
        Beta = AddParameter(name + ".bias", Var.Constant(weights.Take(name + ".bias", [channels]), name + ".bias"));
    }

    public Var Gamma { get; }

    public Var Beta { get; }

    /// <summary>Normalizes x [N, .., C]; <paramref name="silu"/> applies SiLU to the result in the same kernel.</summary>
    public Var Forward(Var x, bool silu = false) => Ops.GroupNorm(x, Gamma, Beta, groups, eps, silu);
}

/// <summary>Layer normalization over the last axis with affine <c>{name}.weight</c>/<c>{name}.bias</c> [C].</summary>
public sealed class LayerNormLayer : Module
{
    private readonly float eps;

    public LayerNormLayer(WeightSet weights, string name, int channels, float eps)
    {
        this.eps = eps;
        Gamma = AddParameter(name + ".weight", Var.Constant(weights.Take(name + ".weight", [channels]), name + ".weight"));
        Beta = AddParameter(name + ".bias", Var.Constant(weights.Take(name + ".bias", [channels]), name + ".bias"));
    }

    public Var Gamma { get; }

    public Var Beta { get; }

    public Var Forward(Var x) => Ops.LayerNorm(x, Gamma, Beta, eps);
}
