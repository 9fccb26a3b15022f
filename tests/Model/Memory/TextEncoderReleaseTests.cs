using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Pipelines;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Model.Memory;

/// <summary><see cref="MemoryOptions.ReleaseTextEncoder"/>: the denoising loop runs without the text encoder's weights, and the image does not change.</summary>
public sealed class TextEncoderReleaseTests(ITestOutputHelper output)
{
    [Fact]
    public void Releasing_the_text_encoder_lowers_the_denoising_peak_by_its_weights_and_keeps_the_image_bit_identical()
    {
        var memory = Devices.Portable.Memory;
        using var pipeline = StableDiffusionPipeline.Load(new ModelSource(TinyModel.Folder), Devices.Portable);
        long encoderBytes = pipeline.TextEncoder.NamedParameters().Sum(p => DeviceMemory.BucketSize(p.Value.Value.ByteCount));
        var request = new TextToImageRequest { Prompt = "a (red:1.2) house", Scheduler = "euler", Steps = 2, Guidance = 5, Width = 32, Height = 32, Seed = 5 };
        (TextToImageResult Result, long DenoisingPeak) Run()
        {
            long peak = 0;
            var result = pipeline.Generate(request, progress =>
            {
                if (progress.Step == 1) memory.ResetPeak(); // the peak of step 2, after warm-up
                else peak = memory.PeakLiveBytes;
            });
            return (result, peak);
        }

        pipeline.Memory = new MemoryOptions { ReleaseTextEncoder = true };
        var (low, lowPeak) = Run();
        Assert.False(pipeline.TextEncoderLoaded);
        pipeline.Memory = MemoryOptions.Default;
        var (normal, normalPeak) = Run(); // loads the encoder again from the checkpoint
        Assert.True(pipeline.TextEncoderLoaded);

        output.WriteLine($"denoising peak live: {normalPeak:N0} B resident, {lowPeak:N0} B released; text encoder weights {encoderBytes:N0} B");
        Assert.True(encoderBytes > 0);
        Assert.Equal(encoderBytes, normalPeak - lowPeak);
        Assert.Equal(normal.Latents.Values, low.Latents.Values);
        Assert.Equal(normal.Decoded.Values, low.Decoded.Values);
    }
}
