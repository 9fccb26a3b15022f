using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Kernels;

public class LossTests(ITestOutputHelper output)
{
    private readonly Device device = Devices.Portable;

    public static TheoryData<int[], bool> Cases()
    {
        var data = new TheoryData<int[], bool>();
        foreach (bool weighted in new[] { false, true })
            foreach (var shape in new[] { new[] { 7 }, new[] { 2, 3, 5 }, new[] { 3, 7, 11, 2 } })   // 462 elements: two chunk passes
                data.Add(shape, weighted);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Mse_matches_float64_and_is_deterministic(int[] shape, bool weighted)
    {
        var (p, t, w) = Inputs(shape, 10);
        using var tp = Tensor.FromHost(device, p, shape);
        using var tt = Tensor.FromHost(device, t, shape);
        using var tw = Tensor.FromHost(device, w, w.Length);
        using var loss = Loss.Mse(tp, tt, weighted ? tw : null);
        using var again = Loss.Mse(tp, tt, weighted ? tw : null);
        Assert.Equal(new Shape(1), loss.Shape);
        double expected = HostLoss(D(p), D(t), weighted ? D(w) : null);
        float got = loss.ToFloatArray()[0];
        double error = Math.Abs(got - expected) / expected;
        output.WriteLine($"MSE {Show(shape)} weighted={weighted}: rel error {error:E3}");
        Assert.True(error <= 1e-6, $"loss {got} vs {expected}");   // non-negative terms, chunked f32 sums: no cancellation
        Assert.Equal(got, again.ToFloatArray()[0]);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Mse_backward_matches_finite_differences(int[] shape, bool weighted)
    {
        var (p, t, w) = Inputs(shape, 20);
        const float upstream = 0.7f;
        using var tp = Tensor.FromHost(device, p, shape);
        using var tt = Tensor.FromHost(device, t, shape);
        using var tw = Tensor.FromHost(device, w, w.Length);
        using var tu = Tensor.FromHost(device, [upstream], 1);
        using var grad = Tensor.Empty(device, DType.F32, shape);
        Loss.MseBackward(tp, tt, tu, grad, weighted ? tw : null);
        var expected = FiniteDifference.Gradient(pp => [HostLoss(pp, D(t), weighted ? D(w) : null)], D(p), [upstream]);
        double error = Reference.RelativeError(grad.ToFloatArray(), expected);
        output.WriteLine($"MSE backward {Show(shape)} weighted={weighted}: rel error {error:E3}");
        Assert.True(error <= 1e-5, $"rel error {error}");   // f32 gradient vs float64 central differences

        var expectedTarget = FiniteDifference.Gradient(tt2 => [HostLoss(D(p), tt2, weighted ? D(w) : null)], D(t), [upstream]);
        Elementwise.Scale(grad, -1f, grad);                  // documented: the target's gradient is the negation
        Assert.True(Reference.RelativeError(grad.ToFloatArray(), expectedTarget) <= 1e-5);
    }

    [Fact]
    public void Bad_operands_are_refused_naming_the_argument()
    {
        using var p = Tensor.Zeros(device, DType.F32, 2, 3);
        using var wrong = Tensor.Zeros(device, DType.F32, 3, 2);
        using var w3 = Tensor.Zeros(device, DType.F32, 3);
        using var u2 = Tensor.Zeros(device, DType.F32, 2);
        using var u1 = Tensor.Zeros(device, DType.F32, 1, 1);
        using var f16 = Tensor.Zeros(device, DType.F16, 2, 3);
        Assert.Equal("target", Assert.Throws<ArgumentException>(() => Loss.Mse(p, wrong)).ParamName);
        Assert.Equal("prediction", Assert.Throws<ArgumentException>(() => Loss.Mse(f16, p)).ParamName);
        Assert.Equal("sampleWeights", Assert.Throws<ArgumentException>(() => Loss.Mse(p, p, w3)).ParamName);
        Assert.Equal("upstream", Assert.Throws<ArgumentException>(() => Loss.MseBackward(p, p, u2, p)).ParamName);
        Assert.Equal("gradPrediction", Assert.Throws<ArgumentException>(() => Loss.MseBackward(p, p, u1, wrong)).ParamName);
        Assert.Equal("sampleWeights", Assert.Throws<ArgumentException>(() => Loss.MseBackward(p, p, u1, p, w3)).ParamName);
    }

    /// <summary>(1/N) Σ_n w_n · mean_j (p − t)²_{n,j}; w_n = 1 without weights.</summary>
    private static double HostLoss(double[] p, double[] t, double[]? w)
    {
        int samples = w?.Length ?? 1, perSample = p.Length / samples;
        double loss = 0;
        for (int n = 0; n < samples; n++)
        {
            double sum = 0;
            for (int j = 0; j < perSample; j++)
            {
                double d = p[n * perSample + j] - t[n * perSample + j];
                sum += d * d;
            }
            loss += (w?[n] ?? 1) * sum / perSample;
        }
        return loss / samples;
    }

    private static (float[] P, float[] T, float[] W) Inputs(int[] shape, int seed)
    {
        int n = shape.Aggregate(1, (a, b) => a * b);
        var w = Reference.RandomNormal(shape[0], seed + 2).Select(v => 0.5f + Math.Abs(v)).ToArray();   // min-SNR-like positive weights
        return (Reference.RandomNormal(n, seed + n), Reference.RandomNormal(n, seed + 1 + n), w);
    }

    private static double[] D(float[] x) => x.Select(v => (double)v).ToArray();

    private static string Show(int[] shape) => $"[{string.Join(", ", shape)}]";
}
