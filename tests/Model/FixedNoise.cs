using IlgpuDiffusion.Model.Schedulers;

namespace IlgpuDiffusion.Tests.Model;

/// <summary>A noise source that replays given values on every draw (stored torch noise, or a test's own).</summary>
internal sealed class FixedNoise(float[] values) : INoiseSource
{
    public void NextStandardNormal(Span<float> destination) => values.CopyTo(destination);
}
