using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.Kernels;

public class DeviceMemoryTests
{
    [Fact]
    public void A_loop_of_the_same_sizes_allocates_on_the_device_only_in_its_first_round()
    {
        // A private device, so other tests' allocations do not disturb the counters.
        using var device = Device.OpenCpu();
        int[] sizes = [17, 1000, 4096, 333, 70_000];
        long afterFirstRound = 0;
        for (int round = 0; round < 5; round++)
        {
            var live = sizes.Select(n => Tensor.Empty(device, DType.F32, n)).ToList();
            live.ForEach(t => t.Dispose());
            if (round == 0) afterFirstRound = device.Memory.DeviceAllocations;
        }
        Assert.Equal(sizes.Length, afterFirstRound);
        Assert.Equal(afterFirstRound, device.Memory.DeviceAllocations);
        Assert.Equal(0, device.Memory.LiveBytes);
    }

    [Fact]
    public void Live_and_peak_counters_follow_the_tensors()
    {
        using var device = Device.OpenCpu();
        var a = Tensor.Empty(device, DType.F32, 1000);      // 4000 B → 4096 B bucket
        var b = Tensor.Empty(device, DType.F16, 3, 100);    // 600 B → 640 B bucket
        Assert.Equal(4096 + 640, device.Memory.LiveBytes);
        a.Dispose();
        Assert.Equal(640, device.Memory.LiveBytes);
        Assert.Equal(4096 + 640, device.Memory.PeakLiveBytes);
        Assert.Equal(4096 + 640, device.Memory.ReservedBytes);
        b.Dispose();
        device.Memory.Trim();
        Assert.Equal(0, device.Memory.ReservedBytes);
        device.Memory.ResetPeak();
        Assert.Equal(0, device.Memory.PeakLiveBytes);
    }

    [Theory]
    [InlineData(1, 256)]
    [InlineData(256, 256)]
    [InlineData(257, 320)]
    [InlineData(4000, 4096)]
    [InlineData(4097, 5120)]
    [InlineData(600, 640)]
    public void Buckets_waste_at_most_a_quarter(long request, long bucket)
    {
        Assert.Equal(bucket, DeviceMemory.BucketSize(request));
        Assert.True(bucket <= Math.Max(256, request * 1.25));
    }
}
