namespace IlgpuDiffusion.Model.Schedulers;

/// <summary>What the denoising model predicts (diffusers' <c>prediction_type</c>).</summary>
public enum PredictionType
{
    /// <summary>The noise ε (SD 1.x).</summary>
    Epsilon,
    /// <summary>v = √ᾱ·ε − √(1−ᾱ)·x₀ (SD 2.x 768).</summary>
    VPrediction,
    /// <summary>The clean sample x₀.</summary>
    Sample,
}

/// <summary>Reads <see cref="PredictionType"/> from a config string.</summary>
internal static class PredictionTypes
{
    /// <summary>The prediction type named by <c>prediction_type</c>, if <paramref name="supported"/> lists it.</summary>
    /// <exception cref="ArgumentException">Unknown, or not supported by <paramref name="scheduler"/>.</exception>
    public static PredictionType Parse(string value, string scheduler, params PredictionType[] supported)
    {
        PredictionType? type = value switch
        {
            "epsilon" => PredictionType.Epsilon,
            "v_prediction" => PredictionType.VPrediction,
            "sample" or "original_sample" => PredictionType.Sample,
            _ => null,
        };
        if (type is not { } t || !supported.Contains(t))
            throw new ArgumentException(
                $"scheduler config: prediction_type '{value}' is not supported by {scheduler} (supported: " +
                string.Join(", ", supported.Select(Name)) + ").", "config");
        return t;
    }

    private static string Name(PredictionType type) => type switch
    {
        PredictionType.Epsilon => "epsilon",
        PredictionType.VPrediction => "v_prediction",
        _ => "sample",
    };
}
