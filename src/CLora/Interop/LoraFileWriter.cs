using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using IlgpuDiffusion.Model.SafeTensors;

namespace IlgpuDiffusion.CLora.Interop;

/// <summary>
/// Writes LoRA layers as a safetensors file (atomically, keys sorted) that A1111, ComfyUI, diffusers and
/// stable-diffusion.cpp load: kohya naming with <c>.alpha</c> and kohya-style metadata, or diffusers naming. For
/// C-LoRA, give each module's tasks joined by <see cref="LoraLayerDelta.Concatenate"/>.
/// </summary>
public static class LoraFileWriter
{
    /// <summary>JSON for metadata values: tokens such as <c>&lt;dog&gt;</c> stay readable (no HTML escaping; it is not HTML).</summary>
    private static readonly JsonSerializerOptions MetadataJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// kohya: <c>lora_unet_&lt;module with _&gt;.lora_down.weight</c> [r, in…], <c>.lora_up.weight</c> [out, r…] and
    /// <c>.alpha</c> (F32 scalar; rank when the layer has no alpha), <c>lora_te_…</c> for the text encoder, with
    /// <c>ss_network_module</c> = networks.lora, <c>ss_network_dim</c>, <c>ss_network_alpha</c> ("Dynamic" when the
    /// layers differ), <c>ss_base_model_version</c> = sd_v1, <c>ss_output_name</c> and <c>idf_*</c> metadata (<see cref="LoraExportInfo"/>).
    /// Factors are stored as <paramref name="dtype"/> (F32, F16 or BF16).
    /// </summary>
    public static void SaveKohya(string path, IEnumerable<LoraLayerDelta> layers, LoraExportInfo info, SafeTensorsDType dtype = SafeTensorsDType.F32)
    {
        var list = Checked(layers, info, dtype);
        var file = new SafeTensorsWriter();
        foreach (var layer in list)
        {
            var stem = LoraKeyNames.KohyaModule(layer.Component, layer.ModuleName);
            file.Add($"{stem}.{LoraKeyNames.KohyaDown}", layer.Down, [.. layer.DownShape], dtype)
                .Add($"{stem}.{LoraKeyNames.KohyaUp}", layer.Up, [.. layer.UpShape], dtype)
                .Add($"{stem}.{LoraKeyNames.Alpha}", new[] { AlphaOf(layer) }, []);
        }
        file.Metadata["ss_network_module"] = "networks.lora";
        file.Metadata["ss_network_dim"] = Uniform(list, l => l.Rank.ToString(CultureInfo.InvariantCulture));
        file.Metadata["ss_network_alpha"] = Uniform(list, l => AlphaOf(l).ToString("R", CultureInfo.InvariantCulture));
        file.Metadata["ss_base_model_version"] = "sd_v1";
        file.Metadata["ss_v2"] = "False";
        file.Metadata["ss_output_name"] = info.OutputName;
        Save(file, info, path);
    }

    /// <summary>
    /// diffusers: <c>unet.&lt;module&gt;.lora.down.weight</c> and <c>.lora.up.weight</c> (<c>text_encoder.…</c>), the
    /// form diffusers' <c>load_lora_weights</c> reads. The format has no alpha, so each layer's scale is folded into up.
    /// </summary>
    public static void SaveDiffusers(string path, IEnumerable<LoraLayerDelta> layers, LoraExportInfo info, SafeTensorsDType dtype = SafeTensorsDType.F32)
    {
        var list = Checked(layers, info, dtype);
        var file = new SafeTensorsWriter();
        foreach (var layer in list)
        {
            var stem = LoraKeyNames.DiffusersPrefix(layer.Component) + layer.ModuleName;
            file.Add(stem + LoraKeyNames.DiffusersDown, layer.Down, [.. layer.DownShape], dtype)
                .Add(stem + LoraKeyNames.DiffusersUp, layer.ScaledUp(), [.. layer.UpShape], dtype);
        }
        Save(file, info, path);
    }

    private static List<LoraLayerDelta> Checked(IEnumerable<LoraLayerDelta> layers, LoraExportInfo info, SafeTensorsDType dtype)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(info);
        if (dtype is not (SafeTensorsDType.F32 or SafeTensorsDType.F16 or SafeTensorsDType.BF16))
            throw new ArgumentException($"LoRA factors are stored as F32, F16 or BF16, not {dtype}.", nameof(dtype));
        var list = layers.ToList();
        if (list.Count == 0) throw new ArgumentException("no LoRA layers to write.", nameof(layers));
        if (list.GroupBy(l => (l.Component, l.ModuleName)).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new ArgumentException($"{twice.Key.Component} module '{twice.Key.ModuleName}' is given {twice.Count()} times; " +
                                        "join the layers of one module with LoraLayerDelta.Concatenate.", nameof(layers));
        return list;
    }

    private static float AlphaOf(LoraLayerDelta layer) => layer.Alpha ?? layer.Rank;

    /// <summary>The layers' common value, or kohya's "Dynamic" when they differ.</summary>
    private static string Uniform(List<LoraLayerDelta> layers, Func<LoraLayerDelta, string> value) =>
        layers.Select(value).Distinct().ToList() is [var single] ? single : "Dynamic";

    private static void Save(SafeTensorsWriter file, LoraExportInfo info, string path)
    {
        file.Metadata["idf_method"] = info.Method;
        file.Metadata["idf_concepts"] = JsonSerializer.Serialize(info.Concepts, MetadataJson);
        if (info.Tokens is { } tokens) file.Metadata["idf_tokens"] = JsonSerializer.Serialize(tokens, MetadataJson);
        if (info.ModelSha256 is { } model) file.Metadata["idf_model_sha256"] = model;
        file.Save(path);
    }
}
