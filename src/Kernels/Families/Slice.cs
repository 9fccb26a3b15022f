namespace IlgpuDiffusion.Kernels;

/// <summary>
/// A window of the last (channel) axis of an F32 tensor of any rank: channels [start, start + length). Used for
/// GEGLU's two halves and for chunking; the backward scatters the gradient into zeros.
/// </summary>
public static class Slice
{
    /// <summary>A new tensor holding channels [<paramref name="start"/>, <paramref name="start"/> + <paramref name="length"/>) of <paramref name="x"/>.</summary>
    public static Tensor LastAxis(Tensor x, int start, int length)
    {
        Require.That(length >= 1, nameof(LastAxis), nameof(length), $"length {length} must be positive.");
        var shape = x.Shape.ToArray();
        shape[^1] = length;
        var output = Tensor.Empty(x.Device, DType.F32, shape);
        try
        {
            LastAxis(x, start, output);
        }
        catch
        {
            output.Dispose();
            throw;
        }
        return output;
    }

    /// <summary>
    /// Writes channels [<paramref name="start"/>, <paramref name="start"/> + C') of <paramref name="x"/> [..., C] into
    /// <paramref name="output"/> [..., C'].
    /// </summary>
    public static void LastAxis(Tensor x, int start, Tensor output)
    {
        CheckWindow(nameof(LastAxis), nameof(x), x, nameof(output), output, start);
        ChannelCopy.Launch(x, start, output, 0, output.Shape[-1]);
    }

    /// <summary>
    /// The gradient of <see cref="LastAxis(Tensor, int, Tensor)"/>: <paramref name="dx"/> [..., C] (overwritten) is
    /// zero except channels [<paramref name="start"/>, <paramref name="start"/> + C'), which get dy [..., C'].
    /// </summary>
    public static void LastAxisBackward(Tensor dy, int start, Tensor dx)
    {
        CheckWindow(nameof(LastAxisBackward), nameof(dx), dx, nameof(dy), dy, start);
        Elementwise.Fill(dx, 0f);
        ChannelCopy.Launch(dy, 0, dx, start, dy.Shape[-1]);
    }

    /// <summary>Checks that <paramref name="window"/> [..., C'] is channels [start, start + C') of <paramref name="full"/> [..., C].</summary>
    private static void CheckWindow(string op, string fullName, Tensor full, string windowName, Tensor window, int start)
    {
        Require.DType(op, fullName, full, DType.F32);
        Require.DType(op, windowName, window, DType.F32);
        Require.SameDevice(op, windowName, window, full.Device);
        int channels = full.Shape[-1], length = window.Shape[-1];
        var expected = full.Shape.ToArray();
        expected[^1] = length;
        Require.Shape(op, windowName, window, expected);
        Require.That(start >= 0 && start + length <= channels, op, nameof(start),
            $"channels [{start}, {start + length}) are not inside the {channels} channels of {fullName} {full.Shape}.");
    }
}
