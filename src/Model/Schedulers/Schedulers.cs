namespace IlgpuDiffusion.Model.Schedulers;

/// <summary>
/// Creates schedulers by their console name (ddim, pndm, euler, euler-a, dpmpp-2m, lms, ddpm) or by a config's
/// <c>_class_name</c>. Each one's <see cref="Scheduler.DisplayName"/> is AUTOMATIC1111's sampler name.
/// </summary>
public static class Schedulers
{
    /// <summary>The console names, in the order help text lists them.</summary>
    public static IReadOnlyList<string> Names { get; } = ["ddim", "pndm", "euler", "euler-a", "dpmpp-2m", "lms", "ddpm"];

    /// <summary>
    /// The scheduler <paramref name="name"/> built from <paramref name="config"/> (typically the model's
    /// scheduler_config.json, whatever its class, as diffusers' <c>from_config</c> does). <paramref name="karras"/>
    /// selects Karras sigmas for euler, lms and dpmpp-2m and overrides the config's use_karras_sigmas; dpmpp-2m also
    /// forces DPM-Solver++ of order 2. <paramref name="eta"/> is DDIM's noise weight η (only ddim takes one).
    /// </summary>
    /// <exception cref="ArgumentException">An unknown name, Karras sigmas or η asked of a scheduler without them, or an unsupported config value.</exception>
    public static Scheduler Create(string name, SchedulerConfig config, bool karras = false, float eta = 0f)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(config);
        if (karras && name is not ("euler" or "lms" or "dpmpp-2m"))
            throw new ArgumentException($"scheduler '{name}' has no Karras sigmas (euler, lms and dpmpp-2m do).", nameof(karras));
        if (eta != 0f && name != "ddim")
            throw new ArgumentException($"scheduler '{name}' takes no eta (only ddim does).", nameof(eta));
        return name switch
        {
            "ddim" => new DdimScheduler(config, eta),
            "pndm" => new PndmScheduler(config),
            "euler" => new EulerScheduler(config, karras),
            "euler-a" => new EulerAncestralScheduler(config),
            "dpmpp-2m" => new DpmSolverMultistepScheduler(config with { AlgorithmType = "dpmsolver++", SolverOrder = 2 }, karras),
            "lms" => new LmsScheduler(config, karras),
            "ddpm" => new DdpmScheduler(config),
            _ => throw new ArgumentException($"unknown scheduler '{name}' (expected one of {string.Join(", ", Names)}).", nameof(name)),
        };
    }

    /// <summary>The scheduler the config names in <c>_class_name</c>, with its own settings (use_karras_sigmas included).</summary>
    /// <exception cref="ArgumentException">The class is missing or not one of the seven implemented.</exception>
    public static Scheduler FromClassName(SchedulerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return NameOf(config.ClassName) switch
        {
            "ddim" => new DdimScheduler(config),
            "pndm" => new PndmScheduler(config),
            "euler" => new EulerScheduler(config),
            "euler-a" => new EulerAncestralScheduler(config),
            "dpmpp-2m" => new DpmSolverMultistepScheduler(config),
            "lms" => new LmsScheduler(config),
            _ => new DdpmScheduler(config),
        };
    }

    /// <summary>The console name of a diffusers scheduler class (<c>PNDMScheduler</c> → pndm).</summary>
    /// <exception cref="ArgumentException">The class is missing or not one of the seven implemented.</exception>
    public static string NameOf(string? className) => className switch
    {
        "DDIMScheduler" => "ddim",
        "PNDMScheduler" => "pndm",
        "EulerDiscreteScheduler" => "euler",
        "EulerAncestralDiscreteScheduler" => "euler-a",
        "DPMSolverMultistepScheduler" => "dpmpp-2m",
        "LMSDiscreteScheduler" => "lms",
        "DDPMScheduler" => "ddpm",
        var c => throw new ArgumentException($"scheduler config: _class_name '{c}' is not a supported scheduler.", nameof(className)),
    };
}
