using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Loading;

namespace IlgpuDiffusion.Model.Nn;

/// <summary>
/// A 2-D convolution over channels-last input [N, H, W, Cin]. The PyTorch weight [Cout, Cin, kh, kw] of
/// <c>{name}.weight</c> is repacked once at load into the engine's [Cout, kh, kw, Cin].
/// </summary>
public sealed class Conv2dLayer : Module
{
    private readonly Conv2dParams parameters;

    private Conv2dLayer(string name, Var weight, Var? bias, Conv2dParams parameters)
    {
        Name = name;
        this.parameters = parameters;
        Weight = AddParameter(name + ".weight", weight);
        Bias = bias is null ? null : AddParameter(name + ".bias", bias);
    }

    public string Name { get; }

    /// <summary>The repacked weight [Cout, kh, kw, Cin].</summary>
    public Var Weight { get; }

    public Var? Bias { get; }

    /// <summary>Loads a conv with a square <paramref name="kernel"/>, the given stride and explicit padding.</summary>
    public static Conv2dLayer Load(WeightSet weights, string name, int inChannels, int outChannels, int kernel, Conv2dParams parameters, bool bias = true)
    {
        using var pytorch = weights.Take(name + ".weight", [outChannels, inChannels, kernel, kernel]);
        var w = Var.Constant(Conv2d.RepackWeight(pytorch), name + ".weight");
        var b = bias ? Var.Constant(weights.Take(name + ".bias", [outChannels]), name + ".bias") : null;
        return new Conv2dLayer(name, w, b, parameters);
    }

    /// <summary>Applies the convolution to x [N, H, W, Cin].</summary>
    public Var Forward(Var x) => Ops.Conv2d(x, Weight, Bias, parameters);

    /// <summary><paramref name="residual"/> + the convolution of x, the residual added in the same pass where it can be (<see cref="Ops.Conv2dAdd"/>).</summary>
    public Var Forward(Var x, Var residual) => Ops.Conv2dAdd(x, Weight, Bias, parameters, residual);
}
