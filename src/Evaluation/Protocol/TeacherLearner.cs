using IlgpuDiffusion.CLora.Training;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Loading;

namespace IlgpuDiffusion.Evaluation.Protocol;

/// <summary>The real learner: <see cref="ConceptTeacher.Learn"/> with the given trainer options (their method included).</summary>
public sealed class TeacherLearner(ModelSource model, Device device, TrainerOptions options, Action<TrainingProgress>? progress = null) : IConceptLearner
{
    public LearnedTask Learn(string libraryFolder, ConceptSpec concept, CancellationToken cancellation)
    {
        var learned = ConceptTeacher.Learn(model, device, libraryFolder,
            new ConceptLesson { Name = concept.Name, Images = concept.Images, ClassWord = concept.ClassWord }, options,
            new LearningRun { Progress = progress, Cancellation = cancellation });
        return new LearnedTask(learned.TrainedParameters, learned.StoredParameters);
    }
}
