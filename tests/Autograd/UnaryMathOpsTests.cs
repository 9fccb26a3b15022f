using IlgpuDiffusion.Autograd;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Autograd;

/// <summary>Ops.Clamp and Ops.Exp (the VAE posterior's log-variance clamp and standard deviation) against float64 and finite differences.</summary>
public class UnaryMathOpsTests(ITestOutputHelper output)
{
    private readonly GradientCheck check = new(output);

    [Fact]
    public void Clamp() =>
        check.Run("Clamp [-0.5, 0.7]", v => Ops.Clamp(v[0], -0.5f, 0.7f), h => [.. h[0].Select(x => Math.Clamp(x, -0.5, 0.7))],
            new GraphInput(90, [3, 7]));

    [Theory]
    [InlineData(1f)]
    [InlineData(0.5f)]
    public void Exp(float scale) =>
        check.Run($"Exp scale {scale}", v => Ops.Exp(v[0], scale), h => [.. h[0].Select(x => Math.Exp(scale * x))], new GraphInput(91, [2, 3, 5]));
}
