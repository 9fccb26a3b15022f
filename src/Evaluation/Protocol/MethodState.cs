using System.Text.Json;
using System.Text.Json.Serialization;

namespace IlgpuDiffusion.Evaluation.Protocol;

/// <summary>
/// The resumable record of one method's run (DIR/state/METHOD.json, rewritten atomically after every stage of every
/// task): the settings fingerprint, the model, and per task what is done, the parameter counts, wall times and images.
/// </summary>
public sealed class MethodState
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public required string Method { get; init; }

    public required string Model { get; init; }

    public required string Fingerprint { get; init; }

    /// <summary>The settings as JSON, for the manifest.</summary>
    public required JsonElement Settings { get; init; }

    /// <summary>The concepts in learning order (name and class word).</summary>
    public required List<string[]> Concepts { get; init; }

    public List<TaskState> Tasks { get; init; } = [];

    /// <summary>Whether every task of the sequence is done.</summary>
    [JsonIgnore]
    public bool Complete => Tasks.Count == Concepts.Count && Tasks.All(t => t.Embedded);

    public static MethodState? Load(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<MethodState>(File.ReadAllText(path), Json)
                ?? throw new InvalidDataException($"evaluation state '{path}' is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"evaluation state '{path}' is not valid: {e.Message}", e);
        }
    }

    public void Save(string path) => AtomicText.Write(path, JsonSerializer.Serialize(this, Json));
}

/// <summary>One task of a method's run: learned (counts, seconds), sampled (images, seconds), embedded.</summary>
public sealed class TaskState
{
    public required string Concept { get; init; }

    public bool Learned { get; set; }

    public long TrainedParameters { get; set; }

    public long StoredParameters { get; set; }

    public double TrainSeconds { get; set; }

    public bool Sampled { get; set; }

    public double SampleSeconds { get; set; }

    public bool Embedded { get; set; }

    public double ScoreSeconds { get; set; }

    public List<ImageRecord> Images { get; init; } = [];

    /// <summary>The task's wall time: training, sampling and embedding.</summary>
    [JsonIgnore]
    public double WallSeconds => TrainSeconds + SampleSeconds + ScoreSeconds;
}

/// <summary>A generated image as the manifest lists it (path relative to DIR).</summary>
public sealed record ImageRecord(string Path, string Concept, string Kind, int Index, string Prompt, string ScoringPrompt, long Seed, string Sampler);
