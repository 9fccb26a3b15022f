using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Autograd;

public static partial class Ops
{
    /// <summary>Nearest-neighbour resampling of x [N, H, W, C] to [N, height, width, C] (PyTorch's index rule).</summary>
    public static Var UpsampleNearest(Var x, int height, int width)
    {
        var y = Resample.UpsampleNearest(x.Value, height, width);
        return Recorder.Result(Recorder.ShouldRecord(x), y, [], (g, grads, _) =>
            grads.Accumulate(x, Compute(g.Device, x.Shape, dx => Resample.UpsampleNearestBackward(g, dx))));
    }

    /// <summary>a [.., C1] ++ b [.., C2] → [.., C1 + C2] (the decoder's skip connections).</summary>
    public static Var ConcatLastAxis(Var a, Var b)
    {
        var y = Concat.LastAxis(a.Value, b.Value);
        int split = a.Shape[-1];
        return Recorder.Result(Recorder.ShouldRecord(a, b), y, [], (g, grads, _) =>
        {
            if (a.RequiresGrad) grads.Accumulate(a, Slice.LastAxis(g, 0, split));
            if (b.RequiresGrad) grads.Accumulate(b, Slice.LastAxis(g, split, g.Shape[-1] - split));
        });
    }

    /// <summary>Channels [start, start + length) of x's last axis.</summary>
    public static Var SliceLastAxis(Var x, int start, int length)
    {
        var y = Slice.LastAxis(x.Value, start, length);
        return Recorder.Result(Recorder.ShouldRecord(x), y, [], (g, grads, _) =>
            grads.Accumulate(x, Compute(g.Device, x.Shape, dx => Slice.LastAxisBackward(g, start, dx))));
    }

    /// <summary>x with its axes reordered (torch's permute): result axis k is x's axis axes[k]. Rank ≤ 4.</summary>
    public static Var Permute(Var x, params int[] axes)
    {
        var y = Kernels.Permute.Apply(x.Value, axes);
        var inverse = new int[axes.Length];
        for (int k = 0; k < axes.Length; k++) inverse[axes[k]] = k;
        return Recorder.Result(Recorder.ShouldRecord(x), y, [], (g, grads, _) => grads.Accumulate(x, Kernels.Permute.Apply(g, inverse)));
    }

    /// <summary>x with a new shape of the same element count, sharing its storage (no copy, forward or backward).</summary>
    public static Var Reshape(Var x, params int[] shape)
    {
        var y = x.Value.Reshape(shape);
        return Recorder.Result(Recorder.ShouldRecord(x), y, [], (g, grads, _) => grads.Accumulate(x, g.Reshape(x.Shape.ToArray())));
    }
}
