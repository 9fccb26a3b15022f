using System.Globalization;
using System.Text.Json;
using IlgpuDiffusion.Model.SafeTensors;

namespace IlgpuDiffusion.CLora.Training;

/// <summary>
/// A resumable snapshot of a run, one safetensors file written atomically: per trainable tensor its values
/// (<c>{name}</c>), AdamW moments (<c>{name}.exp_avg</c>, <c>{name}.exp_avg_sq</c>), and as metadata the completed
/// optimizer steps and the options as JSON. The random state is the step count itself: every random choice of draw k
/// is a function of (seed, k) (<see cref="StepRandom"/>, Philox offsets), so nothing else has to be saved.
/// </summary>
internal static class TrainerCheckpoint
{
    private const string StepKey = "clora.trainer.step", OptionsKey = "clora.trainer.options";

    public static void Save(string path, int step, TrainerOptions options, IReadOnlyList<TrainableTensor> tensors)
    {
        var writer = new SafeTensorsWriter();
        writer.Metadata[StepKey] = step.ToString(CultureInfo.InvariantCulture);
        writer.Metadata[OptionsKey] = JsonSerializer.Serialize(options);
        foreach (var t in tensors)
        {
            var values = t.Read();
            writer.Add(t.Name, values, [values.Length]);
            writer.Add(t.Name + ".exp_avg", t.M);
            writer.Add(t.Name + ".exp_avg_sq", t.V);
        }
        writer.Save(path);
    }

    /// <summary>Restores the tensors and moments and returns the completed step count.</summary>
    /// <exception cref="InvalidDataException">The checkpoint was written with other options or other tensors.</exception>
    public static int Load(string path, TrainerOptions options, IReadOnlyList<TrainableTensor> tensors)
    {
        using var reader = SafeTensorsReader.Open(path);
        if (!reader.Metadata.TryGetValue(OptionsKey, out var saved) || saved != JsonSerializer.Serialize(options))
            throw new InvalidDataException($"checkpoint '{path}' was written with other training options; resume with the same ones.");
        foreach (var t in tensors)
        {
            if (!reader.Contains(t.Name)) throw new InvalidDataException($"checkpoint '{path}' has no tensor {t.Name}.");
            t.Write(reader.ReadF32(t.Name));
            t.M.CopyFromHost(reader.ReadF32(t.Name + ".exp_avg"));
            t.V.CopyFromHost(reader.ReadF32(t.Name + ".exp_avg_sq"));
        }
        return int.Parse(reader.Metadata[StepKey], CultureInfo.InvariantCulture);
    }
}
