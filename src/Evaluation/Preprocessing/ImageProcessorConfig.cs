using IlgpuDiffusion.Model.Configs;

namespace IlgpuDiffusion.Evaluation.Preprocessing;

/// <summary>
/// A Hugging Face <c>preprocessor_config.json</c> of a <c>CLIPImageProcessor</c> or a <c>ViTImageProcessor</c>
/// (transformers 4.30): resize (shortest edge for CLIP, exact height × width for ViT), optional center crop,
/// rescale and normalize. Absent keys take the processor's defaults.
/// </summary>
public sealed record ImageProcessorConfig
{
    /// <summary>When set, the shortest side becomes this and the other <c>int(size · long / short)</c> (CLIP); otherwise <see cref="ResizeHeight"/> × <see cref="ResizeWidth"/>.</summary>
    public int? ShortestEdge { get; init; }

    public int ResizeHeight { get; init; }

    public int ResizeWidth { get; init; }

    public bool DoResize { get; init; } = true;

    public ResampleFilter Resample { get; init; }

    public bool DoCenterCrop { get; init; }

    public int CropHeight { get; init; }

    public int CropWidth { get; init; }

    public bool DoRescale { get; init; } = true;

    public double RescaleFactor { get; init; } = 1.0 / 255;

    public bool DoNormalize { get; init; } = true;

    /// <summary>Per-channel mean (R, G, B).</summary>
    public required IReadOnlyList<double> ImageMean { get; init; }

    /// <summary>Per-channel standard deviation (R, G, B).</summary>
    public required IReadOnlyList<double> ImageStd { get; init; }

    /// <summary>
    /// Reads <paramref name="path"/>. The processor type comes from <c>image_processor_type</c> or
    /// <c>feature_extractor_type</c> (CLIP… or ViT…); it decides what a plain integer <c>size</c> means.
    /// </summary>
    /// <exception cref="ConfigException">The file is missing or a value is invalid; the message names the file and the key.</exception>
    public static ImageProcessorConfig Load(string path)
    {
        var json = ConfigJson.Load(path);
        var type = json.String("image_processor_type", json.String("feature_extractor_type", ""));
        bool clip = type.StartsWith("CLIP", StringComparison.Ordinal);
        if (!clip && !type.StartsWith("ViT", StringComparison.Ordinal))
            throw json.Invalid("image_processor_type", $"'{type}' is not supported (expected CLIPImageProcessor or ViTImageProcessor)");

        int? shortest = null;
        int height = 224, width = 224;
        if (json.IsObject("size"))
        {
            var size = json.Section("size");
            if (size.Has("shortest_edge")) shortest = size.Int("shortest_edge");
            else (height, width) = (size.Int("height"), size.Int("width"));
        }
        else if (json.Has("size"))
        {
            int size = json.Int("size");
            if (clip) shortest = size;
            else (height, width) = (size, size);
        }
        else if (clip)
        {
            shortest = 224;
        }

        int cropHeight = 224, cropWidth = 224;
        if (json.IsObject("crop_size"))
        {
            var crop = json.Section("crop_size");
            (cropHeight, cropWidth) = (crop.Int("height"), crop.Int("width"));
        }
        else if (json.Has("crop_size"))
        {
            cropHeight = cropWidth = json.Int("crop_size");
        }

        int resample = json.Int("resample", clip ? (int)ResampleFilter.Bicubic : (int)ResampleFilter.Bilinear);
        if (!Enum.IsDefined((ResampleFilter)resample))
            throw json.Invalid("resample", $"{resample} is not supported (expected 2, bilinear, or 3, bicubic)");
        var config = new ImageProcessorConfig
        {
            ShortestEdge = shortest,
            ResizeHeight = height,
            ResizeWidth = width,
            DoResize = json.Bool("do_resize", true),
            Resample = (ResampleFilter)resample,
            DoCenterCrop = json.Bool("do_center_crop", clip),
            CropHeight = cropHeight,
            CropWidth = cropWidth,
            DoRescale = json.Bool("do_rescale", true),
            RescaleFactor = json.Double("rescale_factor", 1.0 / 255),
            DoNormalize = json.Bool("do_normalize", true),
            ImageMean = json.Has("image_mean") ? json.Doubles("image_mean") : clip ? ClipMean : HalfMean,
            ImageStd = json.Has("image_std") ? json.Doubles("image_std") : clip ? ClipStd : HalfMean,
        };
        config.Validate(json);
        return config;
    }

    private static readonly double[] ClipMean = [0.48145466, 0.4578275, 0.40821073];
    private static readonly double[] ClipStd = [0.26862954, 0.26130258, 0.27577711];
    private static readonly double[] HalfMean = [0.5, 0.5, 0.5];

    private void Validate(ConfigJson json)
    {
        if ((ShortestEdge ?? 1) < 1 || ResizeHeight < 1 || ResizeWidth < 1) throw json.Invalid("size", "sizes must be positive");
        if (CropHeight < 1 || CropWidth < 1) throw json.Invalid("crop_size", "sizes must be positive");
        if (DoResize && DoCenterCrop && ShortestEdge is { } edge && (CropHeight > edge || CropWidth > edge))
            throw json.Invalid("crop_size", $"{CropHeight}x{CropWidth} is larger than the resized shortest edge {edge} (padding is not supported)");
        if (ImageMean.Count != 3) throw json.Invalid("image_mean", $"has {ImageMean.Count} values, expected 3 (R, G, B)");
        if (ImageStd.Count != 3 || ImageStd.Any(s => s <= 0)) throw json.Invalid("image_std", "expected 3 positive values (R, G, B)");
    }
}
