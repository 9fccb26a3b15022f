using System.Security.Cryptography;
using System.Text.Json.Nodes;
using IlgpuDiffusion.CLora.Library;
using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Tests.Support;
using static IlgpuDiffusion.Tests.CLora.LibraryTestData;
using Factors = (float[] down, int[] downShape, float[] up, int[] upShape);

namespace IlgpuDiffusion.Tests.CLora;

public sealed class ConceptLibraryTests : IDisposable
{
    private readonly DirectoryInfo root = Directory.CreateTempSubdirectory("idf-library-");
    private readonly Random random = new(20240613);

    private string Folder => Path.Combine(root.FullName, "lib");

    public void Dispose() => root.Delete(recursive: true);

    // ---- round trip and accumulation ----

    [Fact]
    public void Two_tasks_survive_a_reopen_unchanged()
    {
        var library = ConceptLibrary.Create(Folder, BaseModel, Settings());
        var (dogFactors, catFactors) = (Factors(random, 2), Factors(random, 3));
        var (dogRow, catRow) = (Values(random, TokenWidth), Values(random, TokenWidth));
        library.AddTask(Record("dog", 2, "dog"), dogFactors, dogRow);
        library.AddTask(Record("cat", 3), catFactors, catRow);

        var reopened = ConceptLibrary.Open(Folder);
        Assert.Equal(library.Concepts, reopened.Concepts);
        Assert.Equal(["dog", "cat"], reopened.Concepts.Select(c => c.Name));
        Assert.Equal(["<dog>", "<cat>"], reopened.Concepts.Select(c => c.Token));
        Assert.Equal([49408, 49409], reopened.Concepts.Select(c => c.TokenId));
        Assert.Equal(Record("cat", 3), reopened.Concepts[1].Record);
        Assert.Equal(TokenWidth + Layers.Sum(l => 2L * (l.Out + l.In)), reopened.Concepts[0].StoredParameters);
        Assert.Equal(BaseModel, reopened.Model);
        Assert.Equal(BaseModel.Files, reopened.Model.Files);
        Assert.Equal(Settings(), reopened.Settings);
        Assert.Equal(Layers.OrderBy(l => l.Name, StringComparer.Ordinal), reopened.Layers);
        Assert.Equal(TokenWidth, reopened.TokenWidth);
        Assert.Equal(dogRow, reopened.TokenRow("dog"));
        Assert.Equal(catRow, reopened.TokenRow("cat"));
        foreach (var layer in Layers)
        {
            AssertFactors(dogFactors[layer.Name], reopened.TaskFactors(0, layer.Name));
            AssertFactors(catFactors[layer.Name], reopened.TaskFactors(1, layer.Name));
            Assert.Equal(library.AccumulatedDelta(layer.Name), reopened.AccumulatedDelta(layer.Name));
        }
    }

    [Fact]
    public void P_is_the_float64_sum_of_up_times_down_over_the_tasks()
    {
        var library = ConceptLibrary.Create(Folder, BaseModel, Settings());
        var tasks = new[] { Factors(random, 2), Factors(random, 3) };
        for (int t = 0; t < tasks.Length; t++) library.AddTask(Record($"c{t}", t + 2), tasks[t], Values(random, TokenWidth));

        var reopened = ConceptLibrary.Open(Folder);
        foreach (var layer in Layers)
        {
            var expected = new double[layer.Out * layer.In];
            foreach (var task in tasks)
            {
                var (down, downShape, up, _) = task[layer.Name];
                int rank = downShape[0];
                for (int i = 0; i < layer.Out; i++)
                    for (int j = 0; j < layer.In; j++)
                        for (int k = 0; k < rank; k++) expected[(i * layer.In) + j] += (double)up[(i * rank) + k] * down[(k * layer.In) + j];
            }
            var p = reopened.AccumulatedDelta(layer.Name);
            double error = Math.Sqrt(expected.Select((e, i) => (e - p[i]) * (e - p[i])).Sum());
            double norm = Math.Sqrt(expected.Sum(e => e * e));
            Assert.True(error <= 1e-6 * norm, $"{layer.Name}: |P - Σ up·down| = {error:E3}, |Σ up·down| = {norm:E3}");
        }
    }

    [Fact]
    public void Kv_finetune_accumulates_dense_deltas_and_stores_no_factors()
    {
        var library = ConceptLibrary.Create(Folder, BaseModel, Settings(LibraryMethod.KvFinetune));
        var (first, second) = (Deltas(random), Deltas(random));
        library.AddDenseTask(Record("dog", 0), first, Values(random, TokenWidth));
        library.AddDenseTask(Record("cat", 0), second, Values(random, TokenWidth));

        var reopened = ConceptLibrary.Open(Folder);
        foreach (var layer in Layers)
        {
            var sum = first[layer.Name].delta.Zip(second[layer.Name].delta, (a, b) => (float)((double)a + b));
            Assert.Equal(sum, reopened.AccumulatedDelta(layer.Name));
        }
        Assert.Equal(TokenWidth + Layers.Sum(l => l.Size), reopened.Concepts[1].StoredParameters);
        Assert.Throws<InvalidOperationException>(() => reopened.TaskFactors(0, Layers[0].Name));
        Assert.Throws<InvalidOperationException>(() => reopened.AddTask(Record("bird", 0), Factors(random, 2), Values(random, TokenWidth)));
    }

    [Fact]
    public void Token_only_stores_just_the_token_rows()
    {
        var library = ConceptLibrary.Create(Folder, BaseModel, Settings(LibraryMethod.TokenOnly));
        var row = Values(random, TokenWidth);
        library.AddTask(Record("dog", 0), new Dictionary<string, Factors>(), row);

        var reopened = ConceptLibrary.Open(Folder);
        Assert.Equal(row, reopened.TokenRow("dog"));
        Assert.Empty(reopened.Layers);
        Assert.Equal(TokenWidth, reopened.Concepts[0].StoredParameters);
        Assert.Throws<InvalidOperationException>(() => reopened.AccumulatedDelta(Layers[0].Name));
        Assert.Throws<ArgumentException>(() => reopened.AddTask(Record("cat", 0), Factors(random, 1), row));
    }

    // ---- atomic saves ----

    [Theory]
    [InlineData(nameof(CommitStage.TensorsWritten), false)]
    [InlineData(nameof(CommitStage.ManifestStaged), false)]
    [InlineData(nameof(CommitStage.ManifestCommitted), true)]
    public void A_crash_during_a_save_leaves_the_previous_or_the_new_version_whole(string stage, bool committed)
    {
        var library = ConceptLibrary.Create(Folder, BaseModel, Settings());
        var dogFactors = Factors(random, 2);
        library.AddTask(Record("dog", 2), dogFactors, Values(random, TokenWidth));
        var before = Layers.ToDictionary(l => l.Name, l => library.AccumulatedDelta(l.Name));

        library.FaultHook = reached =>
        {
            if (reached.ToString() == stage) throw new SimulatedCrash();
        };
        Assert.Throws<SimulatedCrash>(() => library.AddTask(Record("cat", 2), Factors(random, 2), Values(random, TokenWidth)));
        Assert.Single(library.Concepts); // the instance did not adopt a version it may not have saved

        var reopened = ConceptLibrary.Open(Folder);
        Assert.Equal(committed ? ["dog", "cat"] : ["dog"], reopened.Concepts.Select(c => c.Name));
        if (!committed)
        {
            foreach (var layer in Layers) Assert.Equal(before[layer.Name], reopened.AccumulatedDelta(layer.Name));
            AssertFactors(dogFactors[Layers[0].Name], reopened.TaskFactors(0, Layers[0].Name));
        }

        // The next save works and tidies what the crash left behind.
        reopened.AddTask(Record("bird", 2), Factors(random, 2), Values(random, TokenWidth));
        Assert.Equal([Path.GetFileName(reopened.TensorsPath), LibraryFiles.Manifest, "library.lock"], FolderFiles());
        Assert.Equal(committed ? 3 : 2, ConceptLibrary.Open(Folder).Concepts.Count);
    }

    [Fact]
    public void Leftovers_of_a_kill_in_the_middle_of_writing_are_ignored_then_removed()
    {
        var library = ConceptLibrary.Create(Folder, BaseModel, Settings());
        library.AddTask(Record("dog", 2), Factors(random, 2), Values(random, TokenWidth));
        var current = Path.GetFileName(library.TensorsPath);
        // A kill while writing version 2's tensors (temporary and half-renamed), and while staging its manifest.
        File.WriteAllBytes(Path.Combine(Folder, $".library-0002.safetensors.{Guid.NewGuid():N}.tmp"), [1, 2, 3]);
        File.WriteAllBytes(Path.Combine(Folder, "library-0002.safetensors"), [8, 0, 0, 0, 0, 0, 0, 0, (byte)'{']);
        File.WriteAllText(Path.Combine(Folder, LibraryFiles.StagedManifest), """{"schemaVersion": 1, "model": {""");

        var reopened = ConceptLibrary.Open(Folder);
        Assert.Equal(current, Path.GetFileName(reopened.TensorsPath));
        Assert.Single(reopened.Concepts);
        reopened.AddTask(Record("cat", 2), Factors(random, 2), Values(random, TokenWidth));
        Assert.Equal(["library-0002.safetensors", LibraryFiles.Manifest, "library.lock"], FolderFiles());
        Assert.Equal(2, ConceptLibrary.Open(Folder).Concepts.Count);
    }

    [Fact]
    public void A_rejected_task_changes_nothing()
    {
        var library = ConceptLibrary.Create(Folder, BaseModel, Settings());
        library.AddTask(Record("dog", 2), Factors(random, 2), Values(random, TokenWidth));
        var file = library.TensorsPath;

        var nan = Factors(random, 2);
        nan[Layers[1].Name].up[3] = float.NaN;
        var missingLayer = Factors(random, 2);
        missingLayer.Remove(Layers[2].Name);
        var wrongRank = Factors(random, 3);
        var wrongShape = Factors(random, 2);
        var (down, _, up, upShape) = wrongShape[Layers[0].Name];
        wrongShape[Layers[0].Name] = (down, [2, 3, 2], up, upShape);

        AssertRejected(() => library.AddTask(Record("cat", 2), nan, Values(random, TokenWidth)), "non-finite", Layers[1].Name);
        AssertRejected(() => library.AddTask(Record("cat", 2), missingLayer, Values(random, TokenWidth)), "is missing", Layers[2].Name);
        AssertRejected(() => library.AddTask(Record("cat", 2), wrongRank, Values(random, TokenWidth)), "rank 2", Layers[0].Name);
        AssertRejected(() => library.AddTask(Record("cat", 2), wrongShape, Values(random, TokenWidth)), "[2, 3, 2]", Layers[0].Name);
        AssertRejected(() => library.AddTask(Record("cat", 2), Factors(random, 2), Values(random, TokenWidth + 1)), "token row", "expected 6");
        AssertRejected(() => library.AddTask(Record("dog", 2), Factors(random, 2), Values(random, TokenWidth)), "already in the library", "dog");
        AssertRejected(() => library.AddTask(Record("Big Cat", 2), Factors(random, 2), Values(random, TokenWidth)), "lowercase", "Big Cat");
        AssertRejected(() => library.AddTask(Record("cat", 0), Factors(random, 2), Values(random, TokenWidth)), "rank 0", "cat");

        Assert.Single(library.Concepts);
        Assert.Equal(file, library.TensorsPath);
        Assert.Single(ConceptLibrary.Open(Folder).Concepts);
    }

    [Fact]
    public void A_second_writer_that_missed_a_save_is_refused()
    {
        ConceptLibrary.Create(Folder, BaseModel, Settings());
        var (first, second) = (ConceptLibrary.Open(Folder), ConceptLibrary.Open(Folder));
        first.AddTask(Record("dog", 2), Factors(random, 2), Values(random, TokenWidth));

        var e = Assert.Throws<ConceptLibraryException>(() => second.AddTask(Record("cat", 2), Factors(random, 2), Values(random, TokenWidth)));
        Assert.Contains("another process saved a new version (library-0001.safetensors)", e.Message);
        Assert.Equal(["dog"], ConceptLibrary.Open(Folder).Concepts.Select(c => c.Name));
    }

    [Fact]
    public void Creating_over_an_existing_library_is_refused()
    {
        ConceptLibrary.Create(Folder, BaseModel, Settings());
        var e = Assert.Throws<ConceptLibraryException>(() => ConceptLibrary.Create(Folder, BaseModel, Settings(LibraryMethod.Lora)));
        Assert.Contains("a library already exists here", e.Message);
        Assert.Equal(LibraryMethod.CLora, ConceptLibrary.Open(Folder).Settings.Method);
    }

    // ---- damaged files ----

    [Fact]
    public void A_modified_tensors_file_is_detected()
    {
        var path = LibraryWithOneTask();
        var bytes = File.ReadAllBytes(path);
        bytes[^5] ^= 0x40;
        File.WriteAllBytes(path, bytes);
        AssertOpenFails(Path.GetFileName(path), "SHA-256", "modified or only partly written");
    }

    [Fact]
    public void A_truncated_tensors_file_is_detected()
    {
        var path = LibraryWithOneTask();
        using (var stream = new FileStream(path, FileMode.Open)) stream.SetLength(stream.Length / 2);
        AssertOpenFails(Path.GetFileName(path), "SHA-256");
    }

    [Fact]
    public void A_missing_tensors_file_is_named()
    {
        var path = LibraryWithOneTask();
        File.Delete(path);
        AssertOpenFails(Path.GetFileName(path), "does not exist");
    }

    [Fact]
    public void A_tensors_file_whose_shapes_disagree_with_the_manifest_is_refused_even_with_a_matching_hash()
    {
        var path = LibraryWithOneTask();
        var layer = Layers[0];
        var writer = new SafeTensorsWriter();
        using (var reader = SafeTensorsReader.Open(path))
            foreach (var info in reader.Tensors)
                writer.Add(info.Name, info.Name == $"P.{layer.Name}" ? new float[layer.Size] : reader.ReadF32(info.Name),
                    info.Name == $"P.{layer.Name}" ? [layer.In, layer.Out] : [.. info.Shape]);
        writer.Save(path);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, LibraryFiles.Manifest)))!;
        manifest["tensors"]!["sha256"] = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
        File.WriteAllText(Path.Combine(Folder, LibraryFiles.Manifest), manifest.ToJsonString());

        AssertOpenFails($"P.{layer.Name}", $"F32 [{layer.In}, {layer.Out}]; expected F32 [{layer.Out}, {layer.In}]");
    }

    [Fact]
    public void A_newer_schema_is_refused_by_version()
    {
        LibraryWithOneTask();
        var path = Path.Combine(Folder, LibraryFiles.Manifest);
        var manifest = JsonNode.Parse(File.ReadAllText(path))!;
        manifest["schemaVersion"] = 2;
        File.WriteAllText(path, manifest.ToJsonString());
        AssertOpenFails(LibraryFiles.Manifest, "schema version 2");
    }

    [Fact]
    public void A_manifest_whose_token_ids_do_not_follow_the_task_order_is_refused()
    {
        LibraryWithOneTask();
        var path = Path.Combine(Folder, LibraryFiles.Manifest);
        var manifest = JsonNode.Parse(File.ReadAllText(path))!;
        manifest["concepts"]![0]!["tokenId"] = 49407;
        File.WriteAllText(path, manifest.ToJsonString());
        AssertOpenFails(LibraryFiles.Manifest, "id 49407", "expected task 0, token <dog>, id 49408");
    }

    [Fact]
    public void A_folder_without_a_library_is_named()
    {
        Directory.CreateDirectory(Folder);
        AssertOpenFails(Folder, "not a concept library");
    }

    // ---- base model ----

    [Fact]
    public void A_different_base_model_is_refused_naming_both_hashes()
    {
        var library = ConceptLibrary.Create(Folder, BaseModel, Settings());
        library.CheckModel(BaseModel with { Files = ["renamed.safetensors"] });

        var other = new ModelIdentity(new string('b', 64), ["sd15.safetensors"]);
        var e = Assert.Throws<ConceptLibraryException>(() => ConceptLibrary.Open(Folder).CheckModel(other));
        Assert.Contains(BaseModel.Sha256, e.Message);
        Assert.Contains(other.Sha256, e.Message);
        Assert.Contains("sd15.safetensors", e.Message);
    }

    [Fact]
    public void Model_identity_hashes_the_single_file_or_the_three_diffusers_weight_files_in_order()
    {
        var single = Fixtures.Path("tiny-sd-single.safetensors");
        var file = ModelIdentity.Compute(single);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(single))), file.Sha256);
        Assert.Equal(["tiny-sd-single.safetensors"], file.Files);

        string[] parts = ["unet/diffusion_pytorch_model.safetensors", "vae/diffusion_pytorch_model.safetensors", "text_encoder/model.safetensors"];
        var folder = ModelIdentity.Compute(Fixtures.Path("tiny-sd"));
        var concatenated = parts.SelectMany(p => File.ReadAllBytes(Fixtures.Path("tiny-sd", p))).ToArray();
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(concatenated)), folder.Sha256);
        Assert.Equal(parts, folder.Files);
        Assert.NotEqual(file, folder);
    }

    // ---- checkpoints ----

    [Fact]
    public void Checkpoint_paths_are_per_concept_and_the_latest_is_the_highest_step()
    {
        var library = ConceptLibrary.Create(Folder, BaseModel, Settings());
        Assert.Null(library.LatestCheckpoint("dog"));
        var path = library.CheckpointPath("dog", 250);
        Assert.Equal(Path.Combine(Folder, "checkpoints", "dog", "step-000250.safetensors"), path);
        foreach (int step in new[] { 250, 1000, 50 }) File.WriteAllBytes(library.CheckpointPath("dog", step), [0]);
        File.WriteAllBytes(Path.Combine(Folder, "checkpoints", "dog", "step-abc.safetensors"), [0]);

        Assert.Equal(new CheckpointFile(1000, library.CheckpointPath("dog", 1000)), library.LatestCheckpoint("dog"));
        Assert.Null(library.LatestCheckpoint("cat"));
        Assert.Throws<ArgumentException>(() => library.CheckpointPath("../dog", 1));
    }

    private string LibraryWithOneTask()
    {
        var library = ConceptLibrary.Create(Folder, BaseModel, Settings());
        library.AddTask(Record("dog", 2), Factors(random, 2), Values(random, TokenWidth));
        return library.TensorsPath;
    }

    private string[] FolderFiles() => [.. Directory.EnumerateFiles(Folder).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal)];

    private void AssertOpenFails(params string[] fragments)
    {
        var e = Assert.Throws<ConceptLibraryException>(() => ConceptLibrary.Open(Folder));
        foreach (var fragment in fragments) Assert.Contains(fragment, e.Message);
    }

    private static void AssertRejected(Action add, params string[] fragments)
    {
        var e = Assert.ThrowsAny<ArgumentException>(add);
        foreach (var fragment in fragments) Assert.Contains(fragment, e.Message);
    }

    private static void AssertFactors(Factors expected, Factors actual)
    {
        Assert.Equal(expected.down, actual.down);
        Assert.Equal(expected.downShape, actual.downShape);
        Assert.Equal(expected.up, actual.up);
        Assert.Equal(expected.upShape, actual.upShape);
    }

    private sealed class SimulatedCrash : Exception;
}
