using System.Buffers.Binary;
using System.Text.Json;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Kernels;

public class CLoraRegularizerTests(ITestOutputHelper output)
{
    private readonly Device device = Devices.Portable;

    /// <summary>Σ_ij M_ij (up·down)_ij² in float64; up [o, r], down [r, n], mask [o, n].</summary>
    private static double HostReg(double[] up, double[] down, double[] mask, int o, int n, int r)
    {
        double reg = 0;
        for (int i = 0; i < o; i++)
            for (int j = 0; j < n; j++)
            {
                double d = 0;
                for (int k = 0; k < r; k++) d += up[i * r + k] * down[k * n + j];
                reg += mask[i * n + j] * d * d;
            }
        return reg;
    }

    /// <summary>The analytic gradients in float64: 2·(M⊙ΔW)·downᵀ and 2·upᵀ·(M⊙ΔW).</summary>
    private static (double[] Up, double[] Down) HostGrads(double[] up, double[] down, double[] mask, int o, int n, int r)
    {
        var gu = new double[o * r];
        var gd = new double[r * n];
        for (int i = 0; i < o; i++)
            for (int j = 0; j < n; j++)
            {
                double d = 0;
                for (int k = 0; k < r; k++) d += up[i * r + k] * down[k * n + j];
                double w = 2 * mask[i * n + j] * d;
                for (int k = 0; k < r; k++)
                {
                    gu[i * r + k] += w * down[k * n + j];
                    gd[k * n + j] += w * up[i * r + k];
                }
            }
        return (gu, gd);
    }

    private static double[] Wide(float[] x) => [.. x.Select(v => (double)v)];

    [Theory]
    [InlineData(5, 7, 3, false)]
    [InlineData(5, 7, 1, true)]
    [InlineData(3, 4, 40, false)] // three rank chunks: 16 + 16 + 8
    public void Value_and_gradients_match_float64_and_finite_differences(int o, int n, int r, bool accumulate)
    {
        const float lambda = 0.37f;
        var up = Reference.RandomNormal(o * r, 1 + o * r);
        var down = Reference.RandomNormal(r * n, 2 + r * n);
        var mask = Reference.RandomNormal(o * n, 3 + o * n).Select(p => p * p).ToArray(); // M = P⊙P
        var oldUp = Reference.RandomNormal(o * r, 4);
        var oldDown = Reference.RandomNormal(r * n, 5);
        using var tUp = Tensor.FromHost(device, up, o, r);
        using var tDown = Tensor.FromHost(device, down, r, n);
        using var tMask = Tensor.FromHost(device, mask, o, n);
        using var reg = Tensor.FromHost(device, [1.5f], 1);
        using var gradUp = Tensor.FromHost(device, oldUp, o, r);
        using var gradDown = Tensor.FromHost(device, oldDown, r, n);

        CLoraRegularizer.Compute(tUp, tDown, tMask, reg, gradUp, gradDown, lambda, accumulate);

        double[] u = Wide(up), d = Wide(down), mk = Wide(mask);
        double before = accumulate ? 1 : 0;
        double expectedReg = before * 1.5 + lambda * HostReg(u, d, mk, o, n, r);
        var (gu, gd) = HostGrads(u, d, mk, o, n, r);
        var expectedUp = gu.Select((g, i) => before * oldUp[i] + lambda * g).ToArray();
        var expectedDown = gd.Select((g, i) => before * oldDown[i] + lambda * g).ToArray();
        double eReg = Math.Abs(reg.ToFloatArray()[0] - expectedReg) / Math.Abs(expectedReg);
        double eUp = Reference.RelativeError(gradUp.ToFloatArray(), expectedUp);
        double eDown = Reference.RelativeError(gradDown.ToFloatArray(), expectedDown);
        output.WriteLine($"[{o}x{n}, r={r}, accumulate={accumulate}] relative error reg {eReg:E2}, grad_up {eUp:E2}, grad_down {eDown:E2}");
        Assert.True(eReg <= 1e-5 && eUp <= 1e-5 && eDown <= 1e-5, $"reg {eReg:E2}, up {eUp:E2}, down {eDown:E2}"); // f32 forward bound

        // The analytic gradients against central differences of the float64 forward (λ·reg).
        var x = u.Concat(d).ToArray();
        var fd = FiniteDifference.Gradient(
            z => [lambda * HostReg(z[..(o * r)], z[(o * r)..], mk, o, n, r)], x, [1.0]);
        var got = gradUp.ToFloatArray().Select((g, i) => g - before * oldUp[i])
            .Concat(gradDown.ToFloatArray().Select((g, i) => g - before * oldDown[i])).Select(g => (float)g).ToArray();
        double eFd = Reference.RelativeError(got, fd);
        output.WriteLine($"    vs finite differences {eFd:E2}");
        Assert.True(eFd <= 1e-5, $"vs finite differences {eFd:E2}"); // f32 gradients; the FD error itself is ~1e-9
    }

    [Fact]
    public void Reg_and_gradients_are_zero_when_up_is_zero()
    {
        // The spec's invariant (clora-spec §1): at step 0 of a task up = 0, so L_forget = 0 and ∇ = 0.
        const int o = 5, n = 7, r = 3;
        using var up = Tensor.Zeros(device, DType.F32, o, r);
        using var down = Tensor.FromHost(device, Reference.RandomNormal(r * n, 8), r, n);
        using var mask = Tensor.FromHost(device, Reference.RandomNormal(o * n, 9).Select(p => p * p).ToArray(), o, n);
        using var reg = Tensor.FromHost(device, [7f], 1);
        using var gradUp = Tensor.FromHost(device, Reference.RandomNormal(o * r, 10), o, r);
        using var gradDown = Tensor.FromHost(device, Reference.RandomNormal(r * n, 11), r, n);
        CLoraRegularizer.Compute(up, down, mask, reg, gradUp, gradDown, 1e6f, accumulate: false);
        Assert.Equal(0f, reg.ToFloatArray().Single());
        Assert.All(gradUp.ToFloatArray(), g => Assert.Equal(0f, g));
        Assert.All(gradDown.ToFloatArray(), g => Assert.Equal(0f, g));
    }

    [Fact]
    public void Matches_the_diffusers_fixture_over_its_32_layers()
    {
        var file = FixtureFile.Read(Fixtures.Path("reference", "lora_grad.safetensors"));
        var layers = JsonSerializer.Deserialize<string[]>(file.Metadata["layers"])!;
        Assert.Equal(32, layers.Length);
        using var reg = Tensor.Zeros(device, DType.F32, 1);
        double worstUp = 0, worstDown = 0;
        foreach (var layer in layers)
        {
            var (up, upShape) = file.Tensor($"{layer}.lora_up");
            var (down, downShape) = file.Tensor($"{layer}.lora_down");
            var (past, pastShape) = file.Tensor($"{layer}.past_delta");
            using var tUp = Tensor.FromHost(device, up.Select(v => (float)v).ToArray(), upShape);
            using var tDown = Tensor.FromHost(device, down.Select(v => (float)v).ToArray(), downShape);
            using var tMask = Tensor.FromHost(device, past.Select(p => (float)(p * p)).ToArray(), pastShape);
            using var gradUp = Tensor.Zeros(device, DType.F32, upShape);
            using var gradDown = Tensor.Zeros(device, DType.F32, downShape);
            // The value accumulates over the layers into one scalar, as a training step sums them; the gradients
            // accumulate into zeroed per-layer buffers.
            CLoraRegularizer.Compute(tUp, tDown, tMask, reg, gradUp, gradDown, 1f, accumulate: true);
            worstUp = Math.Max(worstUp, Reference.RelativeError(gradUp.ToFloatArray(), file.Tensor($"grad_reg.{layer}.lora_up").Data));
            worstDown = Math.Max(worstDown, Reference.RelativeError(gradDown.ToFloatArray(), file.Tensor($"grad_reg.{layer}.lora_down").Data));
        }
        double expected = file.Tensor("reg").Data.Single();
        double eReg = Math.Abs(reg.ToFloatArray().Single() - expected) / expected;
        output.WriteLine($"fixture: reg relative error {eReg:E2}; worst layer grad_up {worstUp:E2}, grad_down {worstDown:E2}");
        Assert.True(eReg <= 1e-5, $"reg relative error {eReg:E2}");
        Assert.True(worstUp <= 1e-4 && worstDown <= 1e-4, $"grad_up {worstUp:E2}, grad_down {worstDown:E2}");
    }

    [Fact]
    public void Mismatched_operands_are_refused_before_launch()
    {
        using var up = Tensor.FromHost(device, Reference.RandomNormal(15, 1), 5, 3);
        using var down = Tensor.FromHost(device, Reference.RandomNormal(21, 2), 3, 7);
        using var wrongDown = Tensor.FromHost(device, Reference.RandomNormal(14, 2), 2, 7);
        using var mask = Tensor.FromHost(device, Reference.RandomNormal(35, 3), 5, 7);
        using var wrongMask = Tensor.FromHost(device, Reference.RandomNormal(35, 3), 7, 5);
        using var reg = Tensor.Zeros(device, DType.F32, 1);
        using var gradUp = Tensor.Zeros(device, DType.F32, 5, 3);
        using var gradDown = Tensor.Zeros(device, DType.F32, 3, 7);
        using var halfUp = Tensor.Zeros(device, DType.F16, 5, 3);
        string Param(Action a) => Assert.Throws<ArgumentException>(a).ParamName!;
        Assert.Equal("down", Param(() => CLoraRegularizer.Compute(up, wrongDown, mask, reg, gradUp, gradDown, 1, false)));
        Assert.Equal("mask", Param(() => CLoraRegularizer.Compute(up, down, wrongMask, reg, gradUp, gradDown, 1, false)));
        Assert.Equal("regOut", Param(() => CLoraRegularizer.Compute(up, down, mask, gradUp, gradUp, gradDown, 1, false)));
        Assert.Equal("gradUp", Param(() => CLoraRegularizer.Compute(up, down, mask, reg, gradDown, gradDown, 1, false)));
        Assert.Equal("gradDown", Param(() => CLoraRegularizer.Compute(up, down, mask, reg, gradUp, gradUp, 1, false)));
        Assert.Equal("up", Param(() => CLoraRegularizer.Compute(halfUp, down, mask, reg, gradUp, gradDown, 1, false)));
        Assert.Equal("lambda", Param(() => CLoraRegularizer.Compute(up, down, mask, reg, gradUp, gradDown, float.NaN, false)));
    }

    /// <summary>
    /// A minimal reader for the fixture's safetensors file (the engine's reader is written separately): an 8-byte
    /// little-endian header length, a JSON header of {dtype, shape, data_offsets} and __metadata__, then F64 data.
    /// </summary>
    private sealed class FixtureFile
    {
        private readonly byte[] bytes;
        private readonly long dataStart;
        private readonly JsonElement header;

        private FixtureFile(byte[] bytes)
        {
            this.bytes = bytes;
            long length = BinaryPrimitives.ReadInt64LittleEndian(bytes);
            dataStart = 8 + length;
            header = JsonDocument.Parse(bytes.AsMemory(8, (int)length)).RootElement;
            Metadata = header.GetProperty("__metadata__").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        }

        public Dictionary<string, string> Metadata { get; }

        public static FixtureFile Read(string path) => new(File.ReadAllBytes(path));

        public (double[] Data, int[] Shape) Tensor(string name)
        {
            var entry = header.GetProperty(name);
            Assert.Equal("F64", entry.GetProperty("dtype").GetString());
            var shape = entry.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var offsets = entry.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var data = new double[(offsets[1] - offsets[0]) / 8];
            Assert.Equal(shape.Aggregate(1, (a, b) => a * b), data.Length);
            for (int i = 0; i < data.Length; i++)
                data[i] = BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan((int)(dataStart + offsets[0] + 8 * i), 8));
            return (data, shape);
        }
    }
}
