using IlgpuDiffusion.Model.Pipelines;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Model.Memory;

/// <summary>
/// After the first denoising step (warm-up) every later step reuses device memory: the allocator asks the device for
/// nothing new and the live bytes return to the same level after each step (test collections run one at a time, so
/// nothing else moves the shared device's counters meanwhile).
/// </summary>
public sealed class DenoisingAllocationTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("euler")]
    [InlineData("dpmpp-2m")]
    public void Guided_steps_after_the_first_allocate_nothing_and_leak_nothing(string scheduler)
    {
        var memory = Devices.Portable.Memory;
        var counters = new List<(long Allocations, long Live)>();
        var request = new TextToImageRequest { Prompt = "a red house", Scheduler = scheduler, Steps = 3, Guidance = 5, Width = 32, Height = 32, Seed = 11 };

        var result = TinyModel.Pipeline.Generate(request, _ => counters.Add((memory.DeviceAllocations, memory.LiveBytes)));

        output.WriteLine(string.Join("; ", counters.Select((c, i) => $"after step {i + 1}: {c.Allocations} device allocations, {c.Live} live bytes")));
        Assert.Equal(3, counters.Count);
        Assert.True(counters[0].Allocations > 0 && counters[0].Live > 0);
        Assert.All(counters.Skip(1), c => Assert.Equal(counters[0], c));
        Assert.Equal(new[] { 1, 4, 4, 4 }, result.Latents.Shape);
    }
}
