using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.Kernels;

public class TensorTests
{
    private readonly Device device = Devices.Portable;

    [Fact]
    public void F32_round_trips_through_the_device()
    {
        var data = Reference.RandomNormal(3 * 5 * 7, seed: 1);
        using var t = Tensor.FromHost(device, data, 3, 5, 7);
        Assert.Equal(new Shape(3, 5, 7), t.Shape);
        Assert.Equal(data, t.ToFloatArray());
    }

    [Fact]
    public void F16_round_trips_and_widens_exactly()
    {
        var data = Reference.RandomNormal(37, seed: 2).Select(v => (System.Half)v).ToArray();
        using var t = Tensor.FromHost(device, data, 37);
        Assert.Equal(DType.F16, t.DType);
        Assert.Equal(data, t.ToHalfArray());
        Assert.Equal(data.Select(h => (float)h).ToArray(), t.ToFloatArray());
    }

    [Fact]
    public void Token_ids_stay_exact_integers()
    {
        // 49407 is the CLIP end-of-text id; as F16 it would become 49408.
        int[] ids = [49406, 320, 1125, 49407, 49407, int.MaxValue, -7];
        using var t = Tensor.FromHost(device, ids, ids.Length);
        Assert.Equal(ids, t.ToIntArray());
        Assert.Throws<InvalidOperationException>(() => t.ToFloatArray());
        Assert.NotEqual(49407f, (float)(System.Half)49407f);
    }

    [Fact]
    public void Zeros_clears_a_reused_block()
    {
        using (var dirty = Tensor.FromHost(device, Reference.RandomNormal(64, 3), 64)) { }
        using var z = Tensor.Zeros(device, DType.F32, 64);
        Assert.All(z.ToFloatArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Reshape_shares_storage_until_the_last_owner_is_disposed()
    {
        var data = Reference.RandomNormal(24, 4);
        var live = device.Memory.LiveBytes;
        var a = Tensor.FromHost(device, data, 2, 3, 4);
        var b = a.Reshape(6, 4);
        a.Dispose();
        Assert.Equal(data, b.ToFloatArray());
        Assert.True(device.Memory.LiveBytes > live);
        b.Dispose();
        Assert.Equal(live, device.Memory.LiveBytes);
        Assert.Throws<ArgumentException>(() => Tensor.FromHost(device, data, 5, 5));
    }

    [Fact]
    public void Wrong_dtype_views_and_shapes_are_refused_with_clear_messages()
    {
        using var t = Tensor.Zeros(device, DType.F16, 4);
        var e = Assert.Throws<InvalidOperationException>(() => t.F32View);
        Assert.Contains("F16", e.Message);
        Assert.Throws<ArgumentException>(() => new Shape(3, 0));
        Assert.Throws<ArgumentException>(() => t.CopyFromHost(new System.Half[5]));
    }
}
