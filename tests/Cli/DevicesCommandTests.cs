using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Tests.Cli;

public class DevicesCommandTests
{
    [Fact]
    public void Lists_the_cpu_accelerator_and_marks_a_default()
    {
        var (code, stdout, _) = ConsoleRunner.Run("devices");
        Assert.Equal(0, code);
        Assert.Contains("ILGPU CPU accelerator", stdout);
        Assert.Contains("default: ", stdout);
        Assert.Single(stdout.Split('\n'), line => line.StartsWith('*'));
    }

    [Theory]
    [InlineData("cpu", DeviceKind.Cpu, 0)]
    [InlineData("CUDA", DeviceKind.Cuda, 0)]
    [InlineData("cuda:3", DeviceKind.Cuda, 3)]
    public void Device_names_parse(string text, DeviceKind kind, int index)
    {
        var spec = DeviceSpec.Parse(text);
        Assert.Equal(kind, spec.Kind);
        Assert.Equal(index, spec.Index);
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    public void Bad_device_names_are_refused_naming_the_option(string text)
    {
        var e = Assert.Throws<ArgumentException>(() => DeviceSpec.Parse(text));
        Assert.Contains("--device", e.Message);
        Assert.Contains("cpu, cuda, cuda:N", e.Message);
    }

    [Fact]
    public void A_missing_cuda_device_is_a_clear_error()
    {
        // No machine running the tests has 100 GPUs; without a GPU the message says 0 were found.
        var e = Assert.Throws<ArgumentException>(() => Device.Open(new DeviceSpec(DeviceKind.Cuda, 99)));
        Assert.Contains("cuda:99", e.Message);
    }
}
