using ILGPU;
using ILGPU.Runtime;

namespace IlgpuDiffusion.Kernels;

/// <summary>Element-wise ops on F32 tensors: fill, add, scale. Portable tier: one thread per element.</summary>
public static class Elementwise
{
    /// <summary>Sets every element of <paramref name="x"/> to <paramref name="value"/>.</summary>
    public static void Fill(Tensor x, float value)
    {
        Require.DType(nameof(Fill), nameof(x), x, DType.F32);
        x.Device.Accelerator.LaunchAutoGrouped(FillKernel, x.Device.Stream, new Index1D(x.Count), x.F32View, value);
    }

    /// <summary>out = a + b, all the same shape (out may alias a or b).</summary>
    public static void Add(Tensor a, Tensor b, Tensor output)
    {
        CheckBinary(nameof(Add), a, b, output);
        a.Device.Accelerator.LaunchAutoGrouped(AddKernel, a.Device.Stream, new Index1D(a.Count), a.F32View, b.F32View, output.F32View);
    }

    /// <summary>out = alpha · x (out may alias x).</summary>
    public static void Scale(Tensor x, float alpha, Tensor output)
    {
        Require.DType(nameof(Scale), nameof(x), x, DType.F32);
        Require.DType(nameof(Scale), nameof(output), output, DType.F32);
        Require.SameDevice(nameof(Scale), nameof(output), output, x.Device);
        Require.SameShape(nameof(Scale), nameof(output), output, x, nameof(x));
        x.Device.Accelerator.LaunchAutoGrouped(ScaleKernel, x.Device.Stream, new Index1D(x.Count), x.F32View, alpha, output.F32View);
    }

    private static void CheckBinary(string op, Tensor a, Tensor b, Tensor output)
    {
        Require.DType(op, nameof(a), a, DType.F32);
        Require.DType(op, nameof(b), b, DType.F32);
        Require.DType(op, nameof(output), output, DType.F32);
        Require.SameDevice(op, nameof(b), b, a.Device);
        Require.SameDevice(op, nameof(output), output, a.Device);
        Require.SameShape(op, nameof(b), b, a, nameof(a));
        Require.SameShape(op, nameof(output), output, a, nameof(a));
    }

    [Kernel]
    internal static void FillKernel(Index1D i, ArrayView<float> x, float value) => x[i] = value;

    [Kernel]
    internal static void AddKernel(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> output)
        => output[i] = a[i] + b[i];

    [Kernel]
    internal static void ScaleKernel(Index1D i, ArrayView<float> x, float alpha, ArrayView<float> output)
        => output[i] = alpha * x[i];
}
