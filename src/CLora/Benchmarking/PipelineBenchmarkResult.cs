using System.Text.Json;
using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.CLora.Benchmarking;

/// <summary>
/// What a <see cref="PipelineBenchmark"/> measured, with where and when: the device, the model, the settings, each
/// stage, and the roofline it is compared against (<see cref="PeakTeraFlops"/>: the card's dense fp16 tensor-core
/// peak when the weights are F16 and tensor cores are enabled, else its fp32 peak; null where unknown).
/// </summary>
public sealed record PipelineBenchmarkResult(
    string DeviceName, DeviceKind DeviceKind, string Model, DType Weights, int Width, int Height, int Batch, int Warmup, int Repeats,
    long WeightBytes, double? PeakTeraFlops, string RooflineName, IReadOnlyList<BenchmarkStage> Stages, DateTimeOffset Date, string? Commit)
{
    /// <summary>The share of <see cref="PeakTeraFlops"/> that <paramref name="stage"/> achieved, or null when the peak is unknown.</summary>
    public double? RooflineFraction(BenchmarkStage stage)
    {
        ArgumentNullException.ThrowIfNull(stage);
        return PeakTeraFlops is { } peak ? stage.TeraFlopsPerSecond / peak : null;
    }

    /// <summary>The highest allocator peak of live bytes over all stages.</summary>
    public long PeakLiveBytes => Stages.Max(s => s.PeakLiveBytes);

    /// <summary>The highest allocator peak of reserved bytes over all stages.</summary>
    public long PeakReservedBytes => Stages.Max(s => s.PeakReservedBytes);

    /// <summary>The highest driver used memory seen after a stage (CUDA only).</summary>
    public long? DriverUsedBytes => Stages.Max(s => s.DriverUsedBytes);

    /// <summary>The result as an indented JSON document (snake_case keys; times in ms, memory in bytes).</summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("device", DeviceName);
            json.WriteString("device_kind", DeviceKind.ToString().ToLowerInvariant());
            json.WriteString("model", Model);
            json.WriteString("weights", Weights.ToString().ToLowerInvariant());
            json.WriteNumber("width", Width);
            json.WriteNumber("height", Height);
            json.WriteNumber("batch", Batch);
            json.WriteNumber("warmup", Warmup);
            json.WriteNumber("repeats", Repeats);
            json.WriteString("date", Date.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
            WriteOptional(json, "commit", Commit);
            json.WriteNumber("weight_bytes", WeightBytes);
            json.WriteString("roofline", RooflineName);
            WriteOptional(json, "roofline_tflops", PeakTeraFlops);
            json.WriteNumber("peak_live_bytes", PeakLiveBytes);
            json.WriteNumber("peak_reserved_bytes", PeakReservedBytes);
            WriteOptional(json, "driver_used_bytes", DriverUsedBytes);
            json.WriteStartArray("stages");
            foreach (var stage in Stages)
            {
                json.WriteStartObject();
                json.WriteString("name", stage.Name);
                json.WriteString("description", stage.Description);
                json.WriteNumber("median_ms", stage.MedianMilliseconds);
                json.WriteStartArray("ms");
                foreach (var ms in stage.Milliseconds) json.WriteNumberValue(ms);
                json.WriteEndArray();
                json.WriteNumber("it_per_s", stage.IterationsPerSecond);
                json.WriteNumber("tflop", stage.Flops / 1e12);
                json.WriteNumber("tflops_per_s", stage.TeraFlopsPerSecond);
                WriteOptional(json, "roofline_fraction", RooflineFraction(stage));
                json.WriteNumber("peak_live_bytes", stage.PeakLiveBytes);
                json.WriteNumber("peak_reserved_bytes", stage.PeakReservedBytes);
                WriteOptional(json, "driver_used_bytes", stage.DriverUsedBytes);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null) json.WriteNull(name);
        else json.WriteString(name, value);
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } v) json.WriteNumber(name, v);
        else json.WriteNull(name);
    }
}
