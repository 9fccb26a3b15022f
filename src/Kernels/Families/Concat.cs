namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Concatenation of two F32 tensors along the last (channel) axis: [..., C1] ++ [..., C2] → [..., C1 + C2], as the
/// UNet's decoder joins its input with a skip connection. The backward splits the gradient.
/// </summary>
public static class Concat
{
    /// <summary>A new tensor [..., C1 + C2] holding <paramref name="a"/>'s channels, then <paramref name="b"/>'s.</summary>
    public static Tensor LastAxis(Tensor a, Tensor b)
    {
        var shape = a.Shape.ToArray();
        shape[^1] += b.Shape[-1];
        var output = Tensor.Empty(a.Device, DType.F32, shape);
        try
        {
            LastAxis(a, b, output);
        }
        catch
        {
            output.Dispose();
            throw;
        }
        return output;
    }

    /// <summary>Writes <paramref name="a"/> [..., C1] ++ <paramref name="b"/> [..., C2] into <paramref name="output"/> [..., C1 + C2].</summary>
    public static void LastAxis(Tensor a, Tensor b, Tensor output)
    {
        Check(nameof(LastAxis), nameof(a), a, nameof(b), b, nameof(output), output);
        ChannelCopy.Launch(a, 0, output, 0, a.Shape[-1]);
        ChannelCopy.Launch(b, 0, output, a.Shape[-1], b.Shape[-1]);
    }

    /// <summary>The gradient of <see cref="LastAxis(Tensor, Tensor, Tensor)"/>: dy [..., C1 + C2] split into <paramref name="da"/> [..., C1] and <paramref name="db"/> [..., C2] (overwritten).</summary>
    public static void LastAxisBackward(Tensor dy, Tensor da, Tensor db)
    {
        Check(nameof(LastAxisBackward), nameof(da), da, nameof(db), db, nameof(dy), dy);
        ChannelCopy.Launch(dy, 0, da, 0, da.Shape[-1]);
        ChannelCopy.Launch(dy, da.Shape[-1], db, 0, db.Shape[-1]);
    }

    /// <summary>Checks F32 dtypes, one device, and shapes [..., C1], [..., C2] and [..., C1 + C2] with equal leading axes.</summary>
    private static void Check(string op, string firstName, Tensor first, string secondName, Tensor second, string joinedName, Tensor joined)
    {
        Require.DType(op, firstName, first, DType.F32);
        Require.DType(op, secondName, second, DType.F32);
        Require.DType(op, joinedName, joined, DType.F32);
        Require.SameDevice(op, secondName, second, first.Device);
        Require.SameDevice(op, joinedName, joined, first.Device);
        var expected = first.Shape.ToArray();
        expected[^1] = second.Shape[-1];
        Require.Shape(op, secondName, second, expected);
        expected[^1] = first.Shape[-1] + second.Shape[-1];
        Require.Shape(op, joinedName, joined, expected);
    }
}
