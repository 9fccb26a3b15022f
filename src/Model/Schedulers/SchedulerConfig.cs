using System.Globalization;
using System.Text.Json;

namespace IlgpuDiffusion.Model.Schedulers;

/// <summary>
/// The keys of a diffusers <c>scheduler_config.json</c> that the schedulers read (unknown keys are ignored, as
/// diffusers' <c>from_config</c> does). A key left out takes diffusers' default; the keys whose default depends on
/// the scheduler class (<c>timestep_spacing</c>, <c>set_alpha_to_one</c>, <c>clip_sample</c>, <c>variance_type</c>)
/// stay null here and each scheduler applies its own default.
/// </summary>
public sealed record SchedulerConfig
{
    /// <summary>
    /// The scheduler Stable Diffusion 1.5 ships (<c>scheduler/scheduler_config.json</c>): PNDM with skip_prk_steps,
    /// scaled_linear betas 0.00085 … 0.012 over 1000 steps, steps_offset 1, set_alpha_to_one and clip_sample false.
    /// What a model without a scheduler config (a single file without <c>--config</c>) samples with.
    /// </summary>
    public static SchedulerConfig StableDiffusion15 { get; } = new()
    {
        ClassName = "PNDMScheduler",
        BetaStart = 0.00085,
        BetaEnd = 0.012,
        BetaSchedule = "scaled_linear",
        StepsOffset = 1,
        SetAlphaToOne = false,
        SkipPrkSteps = true,
        ClipSample = false,
    };

    /// <summary><c>_class_name</c>, e.g. PNDMScheduler.</summary>
    public string? ClassName { get; init; }
    public int NumTrainTimesteps { get; init; } = 1000;
    public double BetaStart { get; init; } = 0.0001;
    public double BetaEnd { get; init; } = 0.02;
    /// <summary>linear, scaled_linear or squaredcos_cap_v2.</summary>
    public string BetaSchedule { get; init; } = "linear";
    /// <summary>Explicit betas, which override the schedule.</summary>
    public IReadOnlyList<double>? TrainedBetas { get; init; }
    /// <summary>epsilon, v_prediction or sample.</summary>
    public string PredictionType { get; init; } = "epsilon";
    /// <summary>linspace, leading or trailing; null means the scheduler class's default.</summary>
    public string? TimestepSpacing { get; init; }
    public int StepsOffset { get; init; }
    public bool? SetAlphaToOne { get; init; }
    public bool SkipPrkSteps { get; init; }
    public bool? ClipSample { get; init; }
    public double ClipSampleRange { get; init; } = 1.0;
    public bool Thresholding { get; init; }
    public bool RescaleBetasZeroSnr { get; init; }
    public bool UseKarrasSigmas { get; init; }
    /// <summary>EulerDiscrete's sigma interpolation: linear.</summary>
    public string InterpolationType { get; init; } = "linear";
    public int SolverOrder { get; init; } = 2;
    /// <summary>DPM-Solver's algorithm: dpmsolver++ (deis maps to it, as in diffusers).</summary>
    public string AlgorithmType { get; init; } = "dpmsolver++";
    /// <summary>DPM-Solver's second-order form: midpoint or heun (logrho, bh1, bh2 map to midpoint, as in diffusers).</summary>
    public string SolverType { get; init; } = "midpoint";
    public bool LowerOrderFinal { get; init; } = true;
    public double LambdaMinClipped { get; init; } = double.NegativeInfinity;
    /// <summary>DDPM's variance: fixed_small (its default) or fixed_large.</summary>
    public string? VarianceType { get; init; }

    /// <summary>Reads a <c>scheduler_config.json</c>.</summary>
    /// <exception cref="FileNotFoundException">The file is missing.</exception>
    /// <exception cref="InvalidDataException">The file is not a JSON object or a key has the wrong type; the message names the file and the key.</exception>
    public static SchedulerConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"scheduler config: {path} not found.", path);
        try
        {
            return Parse(File.ReadAllText(path));
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Parses the text of a <c>scheduler_config.json</c> (Python's NaN/Infinity literals accepted).</summary>
    /// <exception cref="InvalidDataException">Not a JSON object, or a key has the wrong type.</exception>
    public static SchedulerConfig Parse(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(PythonJson.QuoteNonFiniteLiterals(json));
            return FromJson(document.RootElement);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"scheduler config is not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>Reads the config from a parsed JSON object.</summary>
    /// <exception cref="InvalidDataException">Not an object, or a key has the wrong type.</exception>
    public static SchedulerConfig FromJson(JsonElement obj)
    {
        if (obj.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"scheduler config must be a JSON object, got {obj.ValueKind}.");
        var d = new SchedulerConfig();
        return new SchedulerConfig
        {
            ClassName = String(obj, "_class_name") ?? d.ClassName,
            NumTrainTimesteps = Int(obj, "num_train_timesteps") ?? d.NumTrainTimesteps,
            BetaStart = Double(obj, "beta_start") ?? d.BetaStart,
            BetaEnd = Double(obj, "beta_end") ?? d.BetaEnd,
            BetaSchedule = String(obj, "beta_schedule") ?? d.BetaSchedule,
            TrainedBetas = DoubleArray(obj, "trained_betas"),
            PredictionType = String(obj, "prediction_type") ?? d.PredictionType,
            TimestepSpacing = String(obj, "timestep_spacing"),
            StepsOffset = Int(obj, "steps_offset") ?? d.StepsOffset,
            SetAlphaToOne = Bool(obj, "set_alpha_to_one"),
            SkipPrkSteps = Bool(obj, "skip_prk_steps") ?? d.SkipPrkSteps,
            ClipSample = Bool(obj, "clip_sample"),
            ClipSampleRange = Double(obj, "clip_sample_range") ?? d.ClipSampleRange,
            Thresholding = Bool(obj, "thresholding") ?? d.Thresholding,
            RescaleBetasZeroSnr = Bool(obj, "rescale_betas_zero_snr") ?? d.RescaleBetasZeroSnr,
            UseKarrasSigmas = Bool(obj, "use_karras_sigmas") ?? d.UseKarrasSigmas,
            InterpolationType = String(obj, "interpolation_type") ?? d.InterpolationType,
            SolverOrder = Int(obj, "solver_order") ?? d.SolverOrder,
            AlgorithmType = String(obj, "algorithm_type") ?? d.AlgorithmType,
            SolverType = String(obj, "solver_type") ?? d.SolverType,
            LowerOrderFinal = Bool(obj, "lower_order_final") ?? d.LowerOrderFinal,
            LambdaMinClipped = Double(obj, "lambda_min_clipped") ?? d.LambdaMinClipped,
            VarianceType = String(obj, "variance_type"),
        };
    }

    /// <summary>The value of <paramref name="key"/>, or null when it is absent or JSON null.</summary>
    private static JsonElement? Value(JsonElement obj, string key) =>
        obj.TryGetProperty(key, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static InvalidDataException WrongType(string key, string expected, JsonElement value) =>
        new($"scheduler config: '{key}' must be {expected}, got {value.ValueKind} {value.GetRawText()}.");

    private static string? String(JsonElement obj, string key) => Value(obj, key) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } v => v.GetString(),
        { } v => throw WrongType(key, "a string", v),
    };

    private static bool? Bool(JsonElement obj, string key) => Value(obj, key) switch
    {
        null => null,
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        { } v => throw WrongType(key, "true or false", v),
    };

    private static int? Int(JsonElement obj, string key) => Value(obj, key) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } v when v.TryGetInt32(out int i) => i,
        { } v => throw WrongType(key, "an integer", v),
    };

    private static double? Double(JsonElement obj, string key) => Value(obj, key) is { } v ? Number(key, v) : null;

    private static IReadOnlyList<double>? DoubleArray(JsonElement obj, string key) => Value(obj, key) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Array } v => v.EnumerateArray().Select(e => Number(key, e)).ToArray(),
        { } v => throw WrongType(key, "an array of numbers", v),
    };

    /// <summary>A JSON number, or one of Python's quoted non-finite literals.</summary>
    private static double Number(string key, JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Number) return value.GetDouble();
        if (value.ValueKind == JsonValueKind.String && value.GetString() is "NaN" or "Infinity" or "-Infinity")
            return double.Parse(value.GetString()!, CultureInfo.InvariantCulture);
        throw WrongType(key, "a number", value);
    }
}
