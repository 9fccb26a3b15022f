using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.Model;

public sealed class SafeTensorsTests : IDisposable
{
    private const string OneF32 = """{"dtype":"F32","shape":[1],"data_offsets":[0,4]}""";

    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("idf-safetensors-");

    public void Dispose() => folder.Delete(recursive: true);

    // ---- bad files, one per problem ----

    [Fact]
    public void Empty_file_is_refused()
    {
        var path = WriteBytes("empty.safetensors", []);
        AssertFormatError(path, null, "empty");
    }

    [Fact]
    public void File_shorter_than_the_length_prefix_is_refused()
    {
        var path = WriteBytes("short.safetensors", [1, 0, 0, 0, 0]);
        AssertFormatError(path, null, "too short");
    }

    [Fact]
    public void Header_length_beyond_the_file_is_refused()
    {
        var bytes = new byte[8 + 16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1000);
        AssertFormatError(WriteBytes("long-header.safetensors", bytes), null, "past the end of the file");
    }

    [Fact]
    public void Header_length_above_100_MB_is_refused_even_when_the_file_is_that_long()
    {
        var path = Path.Combine(folder.FullName, "huge-header.safetensors");
        using (var stream = File.Create(path))
        {
            var prefix = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, 100_000_001);
            stream.Write(prefix);
            stream.SetLength(8 + 100_000_008); // sparse: no disk is used
        }
        AssertFormatError(path, null, "above the limit of 100000000 bytes");
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("""{"w":""")]
    [InlineData("""{'w':1}""")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},}""")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}} {}""")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}} // comment""")]
    public void Malformed_json_is_refused(string header)
        => AssertFormatError(WriteFile("bad-json.safetensors", header, 4), null, "not valid JSON");

    [Fact]
    public void Header_that_is_not_utf8_is_refused()
    {
        var path = WriteFile("utf8.safetensors", $$"""{"w?":{{OneF32}}}""", 4);
        var bytes = File.ReadAllBytes(path);
        bytes[8 + 3] = 0xFF; // the '?' in the name
        File.WriteAllBytes(path, bytes);
        AssertFormatError(path, null, "not valid UTF-8 JSON");
    }

    [Theory]
    [InlineData("[1,2]", "array")]
    [InlineData("\"w\"", "string")]
    [InlineData("7", "number")]
    public void Header_that_is_not_an_object_is_refused(string header, string kind)
        => AssertFormatError(WriteFile("not-object.safetensors", header, 0), null, $"the header is a JSON {kind}, not an object");

    [Fact]
    public void Entry_that_is_not_an_object_is_refused()
        => AssertFormatError(WriteFile("entry.safetensors", """{"w":[0,4]}""", 4), "w", "the header entry is a JSON array, not an object");

    [Theory]
    [InlineData("""{"shape":[1],"data_offsets":[0,4]}""", "no 'dtype'")]
    [InlineData("""{"dtype":32,"shape":[1],"data_offsets":[0,4]}""", "'dtype' is a JSON number, not a string")]
    [InlineData("""{"dtype":"F32","data_offsets":[0,4]}""", "no 'shape'")]
    [InlineData("""{"dtype":"F32","shape":"1","data_offsets":[0,4]}""", "'shape' is a JSON string, not an array")]
    [InlineData("""{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}""", "'shape' holds a value that is not a 64-bit integer")]
    [InlineData("""{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}""", "negative dimension")]
    [InlineData("""{"dtype":"F32","shape":[1]}""", "no 'data_offsets'")]
    [InlineData("""{"dtype":"F32","shape":[1],"data_offsets":{"start":0}}""", "'data_offsets' is a JSON object, not an array")]
    [InlineData("""{"dtype":"F32","shape":[1],"data_offsets":["0","4"]}""", "'data_offsets' holds a value that is not a 64-bit integer")]
    [InlineData("""{"dtype":"F32","shape":[1],"data_offsets":[0]}""", "'data_offsets' has 1 values, not 2")]
    [InlineData("""{"dtype":"F32","shape":[1],"dtype":"F32","data_offsets":[0,4]}""", "the field 'dtype' more than once")]
    public void Missing_or_ill_typed_entry_fields_are_refused(string entry, string problem)
        => AssertFormatError(WriteFile("fields.safetensors", $$"""{"w":{{entry}}}""", 4), "w", problem);

    [Theory]
    [InlineData("U8")]
    [InlineData("f32")]
    [InlineData("0")]
    [InlineData("F8_E4M3")]
    public void Unknown_dtype_is_refused(string dtype)
        => AssertFormatError(WriteFile("dtype.safetensors", $$$"""{"w":{"dtype":"{{{dtype}}}","shape":[1],"data_offsets":[0,4]}}""", 4),
            "w", $"unknown dtype '{dtype}'");

    [Theory]
    [InlineData("F32", "[2]", 4)]
    [InlineData("F64", "[1]", 4)]
    [InlineData("BF16", "[3]", 4)]
    [InlineData("I64", "[]", 4)]
    [InlineData("F32", "[0, 3]", 4)]
    public void Shape_that_does_not_match_the_byte_range_is_refused(string dtype, string shape, int bytes)
        => AssertFormatError(WriteFile("size.safetensors", $$$"""{"w":{"dtype":"{{{dtype}}}","shape":{{{shape}}},"data_offsets":[0,{{{bytes}}}]}}""", bytes),
            "w", $"shape {shape} of {dtype} needs");

    [Theory]
    [InlineData(-4, 0, "are negative")]
    [InlineData(4, 0, "end before they start")]
    [InlineData(0, 8, "run past the end of the data section (4 bytes)")]
    public void Offsets_out_of_range_are_refused(long start, long end, string problem)
        => AssertFormatError(WriteFile("offsets.safetensors", $$$"""{"w":{"dtype":"F32","shape":[1],"data_offsets":[{{{start}}},{{{end}}}]}}""", 4),
            "w", problem);

    [Fact]
    public void Overlapping_tensors_are_refused()
    {
        var header = """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""";
        AssertFormatError(WriteFile("overlap.safetensors", header, 12), "b", "overlapping 'a', which ends at 8");
    }

    [Fact]
    public void Gap_between_tensors_is_refused()
    {
        var header = """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""";
        AssertFormatError(WriteFile("gap.safetensors", header, 12), "b", "leaving a gap after 'a', which ends at 4");
    }

    [Fact]
    public void Gap_before_the_first_tensor_is_refused()
        => AssertFormatError(WriteFile("gap-first.safetensors", """{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8),
            "a", "the first tensor must start at 0");

    [Fact]
    public void Bytes_after_the_last_tensor_are_refused()
        => AssertFormatError(WriteFile("trailing.safetensors", $$"""{"a":{{OneF32}}}""", 8), "a", "4 bytes belong to no tensor");

    [Fact]
    public void Duplicate_tensor_names_are_refused()
    {
        var header = """{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""";
        AssertFormatError(WriteFile("duplicate.safetensors", header, 8), "w", "more than once");
    }

    [Fact]
    public void Duplicate_metadata_keys_are_refused()
        => AssertFormatError(WriteFile("duplicate-meta.safetensors", $$"""{"__metadata__":{"k":"1","k":"2"},"w":{{OneF32}}}""", 4),
            null, "'__metadata__' has the key 'k' more than once");

    [Theory]
    [InlineData("""{"k":1}""", "value of 'k' is a JSON number, not a string")]
    [InlineData("""["k"]""", "'__metadata__' is a JSON array, not an object of strings")]
    public void Metadata_that_is_not_a_string_map_is_refused(string metadata, string problem)
        => AssertFormatError(WriteFile("meta.safetensors", $$"""{"__metadata__":{{metadata}},"w":{{OneF32}}}""", 4), null, problem);

    [Fact]
    public void Asking_for_a_missing_tensor_names_file_and_tensor()
    {
        var path = WriteFile("one.safetensors", $$"""{"w":{{OneF32}}}""", 4);
        using var reader = SafeTensorsReader.Open(path);
        var e = Assert.Throws<KeyNotFoundException>(() => reader.ReadF32("missing.weight"));
        Assert.Contains("one.safetensors", e.Message);
        Assert.Contains("'missing.weight'", e.Message);
        Assert.False(reader.Contains("missing.weight"));
        Assert.True(reader.Contains("w"));
    }

    // ---- round trips ----

    [Fact]
    public void Every_dtype_round_trips_with_metadata_scalars_and_empty_tensors()
    {
        var f32 = Reference.RandomNormal(6, seed: 11);
        var f16 = Reference.RandomNormal(5, seed: 12).Select(v => (Half)v).ToArray();
        var f64 = new[] { Math.PI, -1e-300, 1e300 };
        int[] i32 = [int.MinValue, -1, 49407, int.MaxValue];
        long[] i64 = [long.MinValue, 5_000_000_000L, -7];
        long[] i64Small = [49406, 999, -3];
        var path = Path.Combine(folder.FullName, "all.safetensors");
        var writer = new SafeTensorsWriter();
        writer.Metadata["format"] = "pt";
        writer.Metadata["prompt"] = "a <49408> dog, \"quoted\" & café 😀";
        writer.Add("f32", f32, [2, 3])
            .Add("f32_as_f16", f32, [6], SafeTensorsDType.F16)
            .Add("f32_as_bf16", f32, [3, 2], SafeTensorsDType.BF16)
            .Add("f32_as_f64", f32, [1, 6], SafeTensorsDType.F64)
            .Add("f16", f16, [5])
            .Add("f64", f64, [3])
            .Add("i32", i32, [2, 2])
            .Add("i64", i64, [3])
            .Add("i64_small", i64Small, [3, 1])
            .Add("scalar", new[] { 2.5f }, [])
            .Add("scalar_i64", new[] { 500L }, [])
            .Add("empty", Array.Empty<float>(), [0, 3]);
        Assert.Equal(12, writer.Count);
        writer.Save(path);

        using var reader = SafeTensorsReader.Open(path);
        Assert.Equal(writer.Metadata.OrderBy(m => m.Key), reader.Metadata.OrderBy(m => m.Key));
        Assert.Equal(["empty", "f16", "f32", "f32_as_bf16", "f32_as_f16", "f32_as_f64", "f64", "i32", "i64", "i64_small", "scalar", "scalar_i64"],
            reader.Tensors.Select(t => t.Name));
        Assert.Equal(SafeTensorsDType.BF16, reader.GetInfo("f32_as_bf16").DType);
        Assert.Equal([3, 2], reader.GetInfo("f32_as_bf16").Shape);

        Assert.Equal(f32, reader.ReadF32("f32"));
        Assert.Equal(f32.Select(v => (Half)v), reader.ReadF16("f32_as_f16"));
        Assert.Equal(f32.Select(RoundToBF16), reader.ReadF32("f32_as_bf16"));
        Assert.Equal(f32, reader.ReadF32("f32_as_f64"));
        Assert.Equal(f16, reader.ReadF16("f16"));
        Assert.Equal(i32, reader.ReadI32("i32"));
        Assert.Equal(i64Small.Select(v => (int)v), reader.ReadI32("i64_small"));

        var raw = RawFile.Read(path);
        Assert.Equal(f64, raw.Decode("f64"));
        Assert.Equal(f32.Select(v => (double)v), raw.Decode("f32_as_f64"));
        Assert.Equal(i64.Select(v => (double)v), raw.Decode("i64"));
        Assert.Equal(long.MinValue, BinaryPrimitives.ReadInt64LittleEndian(raw.Bytes("i64")));

        var scalar = reader.GetInfo("scalar");
        Assert.Empty(scalar.Shape);
        Assert.Equal(1, scalar.ElementCount);
        Assert.Equal([2.5f], reader.ReadF32("scalar"));
        Assert.Equal([500], reader.ReadI32("scalar_i64"));
        var empty = reader.GetInfo("empty");
        Assert.Equal([0, 3], empty.Shape);
        Assert.Equal(0, empty.ElementCount);
        Assert.Empty(reader.ReadF32("empty"));
        Assert.Empty(reader.ReadF16("empty"));
    }

    [Fact]
    public void Written_files_have_sorted_keys_a_padded_header_and_contiguous_little_endian_data()
    {
        var path = Path.Combine(folder.FullName, "layout.safetensors");
        var writer = new SafeTensorsWriter();
        writer.Metadata["z"] = "last";
        writer.Metadata["a"] = "first";
        writer.Add("zeta", new[] { 1.5f, -2f }, [2])
            .Add("Alpha", new[] { 3 }, [1])
            .Add("beta", new[] { 7L }, [])
            .Add("alpha", new Half[] { (Half)0.5f, (Half)(-1), (Half)2 }, [3]);
        writer.Save(path);

        var raw = RawFile.Read(path);
        Assert.Equal(0, raw.HeaderLength % 8);
        var headerText = Encoding.UTF8.GetString(raw.Header);
        Assert.Equal(headerText.TrimEnd(' ').Length, headerText.TrimEnd().Length);
        Assert.True(headerText.Length - headerText.TrimEnd(' ').Length < 8);
        Assert.Equal(["__metadata__", "Alpha", "alpha", "beta", "zeta"], raw.KeysInOrder);
        Assert.Equal(["a", "z"], raw.Metadata.Keys);
        long end = 0;
        foreach (var name in raw.KeysInOrder.Skip(1))
        {
            Assert.Equal(end, raw.Tensors[name].Start);
            end = raw.Tensors[name].End;
        }
        Assert.Equal(end, raw.DataLength);
        Assert.Equal(1.5f, BinaryPrimitives.ReadSingleLittleEndian(raw.Bytes("zeta")));
        Assert.Equal([(byte)3, 0, 0, 0], raw.Bytes("Alpha"));
        Assert.Equal([0.5, -1.0, 2.0], raw.Decode("alpha"));
        Assert.Equal([7.0], raw.Decode("beta"));
    }

    [Fact]
    public void Writer_refuses_bad_arguments_up_front()
    {
        var writer = new SafeTensorsWriter().Add("w", new float[6], [2, 3]);
        Assert.Contains("5 values do not fill shape [2, 3]", Assert.Throws<ArgumentException>(() => writer.Add("x", new float[5], [2, 3])).Message);
        Assert.Contains("already added", Assert.Throws<ArgumentException>(() => writer.Add("w", new float[6], [6])).Message);
        Assert.Contains("reserved", Assert.Throws<ArgumentException>(() => writer.Add("__metadata__", new float[1], [1])).Message);
        Assert.Contains("negative", Assert.Throws<ArgumentException>(() => writer.Add("n", new float[1], [-1, -1])).Message);
        Assert.Contains("not I32", Assert.Throws<ArgumentException>(() => writer.Add("i", new float[1], [1], SafeTensorsDType.I32)).Message);
        Assert.Equal(1, writer.Count);
    }

    // ---- conversions ----

    [Fact]
    public void BF16_widens_to_F32_exactly_and_rounds_to_F16()
    {
        // 1, -3.140625 (exact in both), +inf, the smallest BF16 subnormal (2^-133), the largest finite BF16.
        ushort[] bits = [0x3F80, 0xC049, 0x7F80, 0x0001, 0x7F7F];
        var path = WriteTensor("bf16.safetensors", "w", "BF16", [5], bits.SelectMany(b => BitConverter.GetBytes(b)).ToArray());
        using var reader = SafeTensorsReader.Open(path);
        Assert.Equal(bits.Select(b => (uint)b << 16), reader.ReadF32("w").Select(BitConverter.SingleToUInt32Bits));
        Assert.Equal(Math.ScaleB(1.0, -133), reader.ReadF32("w")[3]);
        Assert.Equal([(Half)1, (Half)(-3.140625), Half.PositiveInfinity, Half.Zero, Half.PositiveInfinity], reader.ReadF16("w"));
    }

    [Fact]
    public void F64_rounds_to_F32_and_to_F16_once()
    {
        double tie = 1 + Math.ScaleB(1.0, -11) + Math.ScaleB(1.0, -40); // just above the F16 midpoint between 1 and 1 + 2^-10
        double[] values = [0.1, 1 + Math.ScaleB(1.0, -30), 1e300, tie];
        var path = WriteTensor("f64.safetensors", "w", "F64", [4], values.SelectMany(BitConverter.GetBytes).ToArray());
        using var reader = SafeTensorsReader.Open(path);
        Assert.Equal([0.1f, 1f, float.PositiveInfinity, 1.00048828125f], reader.ReadF32("w"));
        var halves = reader.ReadF16("w");
        Assert.Equal((Half)1.0009765625f, halves[3]); // through F32 it would round twice, to 1
        Assert.Equal(Half.PositiveInfinity, halves[2]);
    }

    [Fact]
    public void F32_rounds_to_F16_to_nearest_even()
    {
        float[] values = [65504f, 65520f, 1 + MathF.ScaleB(1, -11), 1 + 3 * MathF.ScaleB(1, -11), MathF.ScaleB(1, -25), -0.1f];
        var path = WriteTensor("f32.safetensors", "w", "F32", [6], values.SelectMany(BitConverter.GetBytes).ToArray());
        using var reader = SafeTensorsReader.Open(path);
        var halves = reader.ReadF16("w");
        Assert.Equal(65504f, (float)halves[0]);
        Assert.Equal(Half.PositiveInfinity, halves[1]);
        Assert.Equal(1f, (float)halves[2]);
        Assert.Equal(1.001953125f, (float)halves[3]);
        Assert.Equal(0f, (float)halves[4]);
        Assert.Equal(-0.0999755859375f, (float)halves[5]);
    }

    [Fact]
    public void I64_narrows_to_I32_with_a_range_check_naming_file_and_tensor()
    {
        long[] values = [int.MaxValue, int.MinValue, 49407, 1L << 31];
        var path = WriteTensor("ids.safetensors", "input_ids", "I64", [4], values.SelectMany(BitConverter.GetBytes).ToArray());
        using var reader = SafeTensorsReader.Open(path);
        var e = Assert.Throws<OverflowException>(() => reader.ReadI32("input_ids"));
        Assert.Contains("ids.safetensors", e.Message);
        Assert.Contains("'input_ids'", e.Message);
        Assert.Contains("element 3 is 2147483648", e.Message);
    }

    [Fact]
    public void Integers_and_floats_do_not_convert_into_each_other()
    {
        var path = Path.Combine(folder.FullName, "kinds.safetensors");
        new SafeTensorsWriter().Add("ids", new[] { 49407L }, [1]).Add("w", new[] { 0.5f }, [1]).Save(path);
        using var reader = SafeTensorsReader.Open(path);
        Assert.Contains("ReadI32", Assert.Throws<InvalidOperationException>(() => reader.ReadF32("ids")).Message);
        Assert.Contains("ReadF32", Assert.Throws<InvalidOperationException>(() => reader.ReadI32("w")).Message);
        Assert.Throws<InvalidOperationException>(() => reader.ReadF16("ids"));
    }

    // ---- atomic writes ----

    [Fact]
    public void Failed_writes_leave_the_old_file_untouched_and_no_temporary_file()
    {
        var path = Path.Combine(folder.FullName, "model.safetensors");
        new SafeTensorsWriter().Add("w", new[] { 1f, 2f }, [2]).Save(path);
        var before = File.ReadAllBytes(path);

        // A data length that does not fill its shape fails before anything is written.
        Assert.Throws<ArgumentException>(() => new SafeTensorsWriter().Add("w", new[] { 3f, 4f, 5f }, [2]).Save(path));
        // A rename that fails (the destination is a folder) happens after the temporary file was written.
        var blocked = Directory.CreateDirectory(Path.Combine(folder.FullName, "blocked.safetensors")).FullName;
        var renameError = Record.Exception(() => new SafeTensorsWriter().Add("w", new[] { 3f }, [1]).Save(blocked));
        Assert.True(renameError is IOException or UnauthorizedAccessException, $"unexpected {renameError}");
        // A null metadata value (possible despite nullable annotations) is refused before the temporary file is made.
        var nullMetadata = new SafeTensorsWriter().Add("w", new[] { 3f }, [1]);
        nullMetadata.Metadata["note"] = null!;
        Assert.Contains("'note'", Assert.Throws<ArgumentException>(() => nullMetadata.Save(path)).Message);

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["blocked.safetensors", "model.safetensors"], folder.GetFileSystemInfos().Select(f => f.Name).Order());
        Assert.Empty(Directory.GetFileSystemEntries(blocked));
    }

    [Fact]
    public void Saving_over_an_existing_file_replaces_it_and_leaves_no_temporary_file()
    {
        var path = Path.Combine(folder.FullName, "model.safetensors");
        new SafeTensorsWriter().Add("old", new[] { 1f }, [1]).Save(path);
        new SafeTensorsWriter().Add("new", new[] { 2f, 3f }, [2]).Save(path);
        using (var reader = SafeTensorsReader.Open(path))
        {
            Assert.False(reader.Contains("old"));
            Assert.Equal([2f, 3f], reader.ReadF32("new"));
        }
        Assert.Equal(["model.safetensors"], folder.GetFiles().Select(f => f.Name));
    }

    // ---- fixtures ----

    public static TheoryData<string> FixtureFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(Fixtures.Root, "*.safetensors", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            data.Add(Path.GetRelativePath(Fixtures.Root, file));
        return data;
    }

    [Theory]
    [MemberData(nameof(FixtureFiles))]
    public void Every_fixture_reads_with_sums_matching_an_independent_float64_decode(string relativePath)
    {
        var path = Path.Combine(Fixtures.Root, relativePath);
        var raw = RawFile.Read(path);
        using var reader = SafeTensorsReader.Open(path);
        Assert.Equal(raw.Tensors.Keys.Order(StringComparer.Ordinal), reader.Tensors.Select(t => t.Name));
        Assert.Equal(raw.Metadata.OrderBy(m => m.Key, StringComparer.Ordinal), reader.Metadata.OrderBy(m => m.Key, StringComparer.Ordinal));
        foreach (var (name, entry) in raw.Tensors)
        {
            var info = reader.GetInfo(name);
            Assert.Equal(entry.DType, info.DType.ToString());
            Assert.Equal(entry.Shape, info.Shape);
            var expected = raw.Decode(name);
            if (info.DType.IsFloat())
            {
                double sum = 0, absSum = 0, actual = 0;
                foreach (var v in expected)
                {
                    sum += v;
                    absSum += Math.Abs(v);
                }
                foreach (var v in reader.ReadF32(name)) actual += v;
                Assert.True(Math.Abs(actual - sum) <= 1e-6 * absSum, $"{relativePath} {name}: sum {actual} vs {sum} (Σ|x| = {absSum})");
            }
            else if (expected.All(v => v is >= int.MinValue and <= int.MaxValue))
                Assert.Equal(expected, reader.ReadI32(name).Select(v => (double)v));
            else
                Assert.Throws<OverflowException>(() => reader.ReadI32(name));
        }
    }

    [Fact]
    public void Fixture_tensors_load_onto_the_device_and_back()
    {
        var device = Devices.Portable;
        using (var reader = SafeTensorsReader.Open(Fixtures.Path("reference", "unet.safetensors")))
        {
            using var noise = reader.ReadTensor(device, "noise_pred");
            Assert.Equal(new Shape(2, 4, 8, 8), noise.Shape);
            Assert.Equal(reader.ReadF32("noise_pred"), noise.ToFloatArray());
            using var half = reader.ReadTensor(device, "noise_pred", DType.F16);
            Assert.Equal(reader.ReadF16("noise_pred"), half.ToHalfArray());
            using var timesteps = reader.ReadTensor(device, "timesteps");
            Assert.Equal(DType.I32, timesteps.DType);
            Assert.Equal([999, 10], timesteps.ToIntArray());
        }
        using (var clip = SafeTensorsReader.Open(Fixtures.Path("eval", "tiny-clip", "model.safetensors")))
        {
            Assert.Empty(clip.GetInfo("logit_scale").Shape);
            using var scale = clip.ReadTensor(device, "logit_scale");
            Assert.Equal(new Shape(1), scale.Shape);
            Assert.Equal(clip.ReadF32("logit_scale"), scale.ToFloatArray());
        }
    }

    [Fact]
    public void Device_tensors_save_with_their_dtype_and_empty_tensors_stay_on_the_host()
    {
        var device = Devices.Portable;
        var values = Reference.RandomNormal(12, seed: 21);
        using var f32 = Tensor.FromHost(device, values, 3, 4);
        using var f16 = Tensor.FromHost(device, values.Select(v => (Half)v).ToArray(), 12);
        using var ids = Tensor.FromHost(device, new[] { 49406, 49407 }, 2);
        var path = Path.Combine(folder.FullName, "device.safetensors");
        new SafeTensorsWriter().Add("f32", f32).Add("f16", f16).Add("ids", ids).Add("empty", Array.Empty<int>(), [2, 0]).Save(path);

        using var reader = SafeTensorsReader.Open(path);
        Assert.Equal(SafeTensorsDType.F16, reader.GetInfo("f16").DType);
        Assert.Equal([3, 4], reader.GetInfo("f32").Shape);
        Assert.Equal(values, reader.ReadF32("f32"));
        Assert.Equal(f16.ToHalfArray(), reader.ReadF16("f16"));
        Assert.Equal([49406, 49407], reader.ReadI32("ids"));
        Assert.Empty(reader.ReadI32("empty"));
        var e = Assert.Throws<InvalidOperationException>(() => reader.ReadTensor(device, "empty"));
        Assert.Contains("'empty'", e.Message);
        Assert.Contains("device.safetensors", e.Message);
    }

    // ---- helpers ----

    private static void AssertFormatError(string path, string? tensor, string problem)
    {
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsReader.Open(path).Dispose());
        Assert.Contains(Path.GetFileName(path), e.Message);
        Assert.Equal(Path.GetFullPath(path), e.FilePath);
        Assert.Equal(tensor, e.TensorName);
        if (tensor is not null) Assert.Contains($"tensor '{tensor}'", e.Message);
        Assert.Contains(problem, e.Message);
    }

    private string WriteBytes(string name, byte[] bytes)
    {
        var path = Path.Combine(folder.FullName, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>A file with this header text (unpadded) and <paramref name="dataBytes"/> bytes of non-zero data.</summary>
    private string WriteFile(string name, string header, int dataBytes)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        bytes.AsSpan(8 + json.Length).Fill(0x3F);
        return WriteBytes(name, bytes);
    }

    /// <summary>A one-tensor file built by hand, independently of <see cref="SafeTensorsWriter"/>.</summary>
    private string WriteTensor(string file, string tensor, string dtype, int[] shape, byte[] data)
    {
        var header = $$$"""{"{{{tensor}}}":{"dtype":"{{{dtype}}}","shape":[{{{string.Join(",", shape)}}}],"data_offsets":[0,{{{data.Length}}}]}}""";
        var path = WriteFile(file, header, data.Length);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Write);
        stream.Seek(-data.Length, SeekOrigin.End);
        stream.Write(data);
        return path;
    }

    /// <summary>Round to nearest even BF16, by arithmetic on doubles (independent of the library's bit trick).</summary>
    private static float RoundToBF16(float value)
    {
        int exponent = Math.ILogB(value);
        double ulp = Math.ScaleB(1.0, exponent - 7);
        return (float)(Math.Round(value / ulp, MidpointRounding.ToEven) * ulp);
    }

    /// <summary>
    /// A minimal safetensors parser written for the tests, independent of the library: System.Text.Json for the
    /// header, BinaryPrimitives and IEEE 754 arithmetic to decode every element to a double.
    /// </summary>
    private sealed class RawFile
    {
        public sealed record Entry(string DType, int[] Shape, long Start, long End);

        private byte[] bytes = [];

        public long HeaderLength { get; private init; }
        public byte[] Header { get; private init; } = [];
        public long DataLength => bytes.Length - 8 - HeaderLength;
        public List<string> KeysInOrder { get; } = [];
        public Dictionary<string, Entry> Tensors { get; } = [];
        public Dictionary<string, string> Metadata { get; } = [];

        public static RawFile Read(string path)
        {
            var bytes = File.ReadAllBytes(path);
            long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            var file = new RawFile { bytes = bytes, HeaderLength = n, Header = bytes[8..(int)(8 + n)] };
            using var doc = JsonDocument.Parse(file.Header);
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                file.KeysInOrder.Add(property.Name);
                if (property.Name == "__metadata__")
                {
                    foreach (var m in property.Value.EnumerateObject()) file.Metadata[m.Name] = m.Value.GetString()!;
                    continue;
                }
                var offsets = property.Value.GetProperty("data_offsets").EnumerateArray().Select(o => o.GetInt64()).ToArray();
                file.Tensors[property.Name] = new Entry(
                    property.Value.GetProperty("dtype").GetString()!,
                    property.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray(),
                    offsets[0], offsets[1]);
            }
            return file;
        }

        public byte[] Bytes(string name)
        {
            var e = Tensors[name];
            return bytes[(int)(8 + HeaderLength + e.Start)..(int)(8 + HeaderLength + e.End)];
        }

        public double[] Decode(string name)
        {
            var data = Bytes(name);
            var (size, decode) = Tensors[name].DType switch
            {
                "F64" => (8, (Func<byte[], int, double>)((b, i) => BinaryPrimitives.ReadDoubleLittleEndian(b.AsSpan(i)))),
                "F32" => (4, (b, i) => BinaryPrimitives.ReadSingleLittleEndian(b.AsSpan(i))),
                "F16" => (2, (b, i) => Ieee(BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(i)), exponentBits: 5, mantissaBits: 10)),
                "BF16" => (2, (b, i) => Ieee(BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(i)), exponentBits: 8, mantissaBits: 7)),
                "I64" => (8, (b, i) => BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(i))),
                "I32" => (4, (b, i) => BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(i))),
                var other => throw new NotSupportedException(other),
            };
            return Enumerable.Range(0, data.Length / size).Select(i => decode(data, i * size)).ToArray();
        }

        /// <summary>Decodes a binary16/bfloat16 bit pattern: sign, biased exponent, mantissa with subnormals.</summary>
        private static double Ieee(uint bits, int exponentBits, int mantissaBits)
        {
            int bias = (1 << (exponentBits - 1)) - 1;
            uint exponent = (bits >> mantissaBits) & ((1u << exponentBits) - 1);
            uint mantissa = bits & ((1u << mantissaBits) - 1);
            double magnitude = exponent switch
            {
                0 => Math.ScaleB(mantissa, 1 - bias - mantissaBits),
                _ when exponent == (1u << exponentBits) - 1 => mantissa == 0 ? double.PositiveInfinity : double.NaN,
                _ => Math.ScaleB(1.0 + Math.ScaleB(mantissa, -mantissaBits), (int)exponent - bias),
            };
            return (bits >> (exponentBits + mantissaBits)) != 0 ? -magnitude : magnitude;
        }
    }
}
