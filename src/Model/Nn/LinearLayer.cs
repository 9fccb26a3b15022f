using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Loading;

namespace IlgpuDiffusion.Model.Nn;

/// <summary>
/// y = x·Wᵀ + b over the last axis, with W [out, in] loaded from <c>{name}.weight</c> (F32 or F16 on the device) and an
/// optional <c>{name}.bias</c>. A 1×1 convolution over channels-last activations is the same op, so
/// <see cref="FromConv1x1"/> loads a [out, in, 1, 1] conv weight into it. An <see cref="Adapter"/> (LoRA) adds its
/// low-rank path to the output.
/// </summary>
public sealed class LinearLayer : Module
{
    private LinearLayer(string name, Var weight, Var? bias, int inFeatures, int outFeatures)
    {
        Name = name;
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = AddParameter(name + ".weight", weight);
        Bias = bias is null ? null : AddParameter(name + ".bias", bias);
    }

    /// <summary>The module's diffusers name (without <c>.weight</c>).</summary>
    public string Name { get; }

    public int InFeatures { get; }

    public int OutFeatures { get; }

    /// <summary>The weight [out, in]; frozen unless <see cref="MakeWeightTrainable"/> was called.</summary>
    public Var Weight { get; private set; }

    public Var? Bias { get; }

    /// <summary>A low-rank adapter whose output is added to the layer's, or null.</summary>
    public ILinearAdapter? Adapter { get; set; }

    /// <summary>Loads <c>{name}.weight</c> [out, in] and, if <paramref name="bias"/>, <c>{name}.bias</c> [out].</summary>
    public static LinearLayer Load(WeightSet weights, string name, int inFeatures, int outFeatures, bool bias = true)
    {
        var w = Var.Constant(weights.Take(name + ".weight", [outFeatures, inFeatures]), name + ".weight");
        var b = bias ? Var.Constant(weights.Take(name + ".bias", [outFeatures]), name + ".bias") : null;
        return new LinearLayer(name, w, b, inFeatures, outFeatures);
    }

    /// <summary>Loads a 1×1 conv <c>{name}.weight</c> [out, in, 1, 1] (+ bias) as a linear layer over channels-last input.</summary>
    public static LinearLayer FromConv1x1(WeightSet weights, string name, int inFeatures, int outFeatures)
    {
        using var conv = weights.Take(name + ".weight", [outFeatures, inFeatures, 1, 1]);
        var w = Var.Constant(conv.Reshape(outFeatures, inFeatures), name + ".weight");
        var b = Var.Constant(weights.Take(name + ".bias", [outFeatures]), name + ".bias");
        return new LinearLayer(name, w, b, inFeatures, outFeatures);
    }

    /// <summary>Applies the layer (and its adapter) to x [.., in].</summary>
    public Var Forward(Var x)
    {
        var y = Ops.Linear(x, Weight, Bias);
        if (Adapter is null) return y;
        using (y) return Adapter.Apply(x, y);
    }

    /// <summary>
    /// Replaces the frozen weight by a trainable F32 copy (full fine-tuning, as Custom Diffusion does for K/V) and
    /// returns it.
    /// </summary>
    public Var MakeWeightTrainable()
    {
        if (Weight.RequiresGrad) return Weight;
        if (Weight.Value.DType != DType.F32)
            throw new InvalidOperationException($"{Name}.weight is {Weight.Value.DType}; training a full weight needs --weights f32.");
        return Weight = ReplaceParameter(Weight, Var.Parameter(Weight.Value.Share(), Name + ".weight"));
    }

    /// <summary>Replaces the weight by <paramref name="weight"/> (same shape), e.g. after folding an adapter into it.</summary>
    public void SetWeight(Var weight)
    {
        if (!weight.Shape.Equals(Weight.Shape))
            throw new ArgumentException($"{Name}.weight: new weight {weight.Shape} does not match {Weight.Shape}.", nameof(weight));
        Weight = ReplaceParameter(Weight, weight);
    }
}

/// <summary>A low-rank path added to a <see cref="LinearLayer"/>'s output (LoRA, C-LoRA).</summary>
public interface ILinearAdapter
{
    /// <summary>Returns y + Δ(x); must not dispose <paramref name="x"/> or <paramref name="y"/>.</summary>
    Var Apply(Var x, Var y);
}
