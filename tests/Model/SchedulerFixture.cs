using System.Text.Json;
using IlgpuDiffusion.Model.Schedulers;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.Model;

/// <summary>
/// <c>reference/schedulers.json</c> (diffusers 0.21.4): the SD 1.5 config, the float32 betas and ᾱ, and per
/// scheduler its timesteps, sigmas and init_noise_sigma for 20 and 50 steps.
/// </summary>
internal sealed class SchedulerFixture
{
    private static readonly Lazy<SchedulerFixture> instance = new(() => new SchedulerFixture());

    private readonly JsonElement root;

    private SchedulerFixture()
    {
        // Python's json writes -Infinity (DPM-Solver's lambda_min_clipped), which System.Text.Json refuses.
        var text = File.ReadAllText(Fixtures.Path("reference", "schedulers.json"));
        root = JsonDocument.Parse(PythonJson.QuoteNonFiniteLiterals(text)).RootElement;
        Sd15 = SchedulerConfig.FromJson(root.GetProperty("sd15_config"));
    }

    public static SchedulerFixture Instance => instance.Value;

    public static string TensorsPath => Fixtures.Path("reference", "schedulers.safetensors");

    /// <summary>The SD 1.5 PNDM config every reference scheduler was built from.</summary>
    public SchedulerConfig Sd15 { get; }

    public double[] Doubles(string key) => Array(root.GetProperty(key));

    public JsonElement Entry(string scheduler) => root.GetProperty("schedulers").GetProperty(scheduler);

    public static double[] Array(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetDouble())];
}
