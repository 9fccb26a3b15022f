namespace IlgpuDiffusion.Model.Schedulers;

/// <summary>
/// <c>torch.linspace(start, end, steps, dtype=float32)</c> on the CPU, bit for bit as the reference build (torch
/// 1.13, AVX2 kernels compiled with FMA contraction) computes it: step = (end − start)/(steps − 1) in float; the first
/// half counts up from start and the second half down from end; values come in 8-lane vectors whose first lane is
/// fma(step, idx, start) (or fma(−step, steps − 1 − idx, end)) and whose lane k adds k·step, and a scalar tail past
/// the last multiple of 16. This reproduces the fixture's 1000 SD betas exactly, where the plain per-element
/// formula is off by one ulp in about a quarter of them.
/// </summary>
internal static class TorchLinspace
{
    private const int Lanes = 8;

    /// <summary>The float32 values of <c>torch.linspace(start, end, steps)</c>; start and end are rounded to float first.</summary>
    public static float[] Float32(double start, double end, int steps)
    {
        float s = (float)start, e = (float)end;
        var y = new float[steps];
        if (steps == 1)
        {
            y[0] = s;
            return y;
        }
        float step = (e - s) / (steps - 1);
        int halfway = steps / 2;
        int vectorEnd = steps - steps % (2 * Lanes);
        for (int base_ = 0; base_ < vectorEnd; base_ += Lanes)
        {
            float first = Value(base_, s, e, step, steps, halfway);
            for (int k = 0; k < Lanes; k++) y[base_ + k] = MathF.FusedMultiplyAdd(k, step, first);
        }
        for (int i = vectorEnd; i < steps; i++) y[i] = Value(i, s, e, step, steps, halfway);
        return y;
    }

    private static float Value(int idx, float start, float end, float step, int steps, int halfway) => idx < halfway
        ? MathF.FusedMultiplyAdd(step, idx, start)
        : MathF.FusedMultiplyAdd(-step, steps - idx - 1, end);
}
