namespace IlgpuDiffusion.Model.Schedulers;

/// <summary>How inference timesteps are placed over the training range (Table 2 of arXiv:2305.08891).</summary>
public enum TimestepSpacing
{
    /// <summary>linspace(0, T−1, n).</summary>
    Linspace,
    /// <summary>arange(n)·(T div n) + steps_offset.</summary>
    Leading,
    /// <summary>round(arange(T, 0, −T/n)) − 1.</summary>
    Trailing,
}

/// <summary>The timestep formulas of diffusers' DDIM, DDPM, PNDM, Euler and LMS schedulers, in numpy's float64.</summary>
internal static class TimestepSpacings
{
    /// <summary>The spacing named by <c>timestep_spacing</c>, or <paramref name="classDefault"/> when it is absent.</summary>
    /// <exception cref="ArgumentException">The name is not linspace, leading or trailing.</exception>
    public static TimestepSpacing Parse(string? value, TimestepSpacing classDefault) => value switch
    {
        null => classDefault,
        "linspace" => TimestepSpacing.Linspace,
        "leading" => TimestepSpacing.Leading,
        "trailing" => TimestepSpacing.Trailing,
        _ => throw new ArgumentException(
            $"scheduler config: timestep_spacing '{value}' is not one of linspace, leading, trailing.", "config"),
    };

    /// <summary>
    /// The n timesteps from the noisiest down: linspace(0, T−1, n) reversed (rounded half-to-even when
    /// <paramref name="roundLinspace"/>, as the integer schedulers do; Euler and LMS keep the fractions), leading
    /// arange(n)·(T div n) reversed + <paramref name="stepsOffset"/>, trailing round(arange(T, 0, −T/n)) − 1.
    /// </summary>
    public static double[] Descending(TimestepSpacing spacing, int trainSteps, int steps, int stepsOffset, bool roundLinspace)
    {
        switch (spacing)
        {
            case TimestepSpacing.Linspace:
                var linear = NumPy.Linspace(0, trainSteps - 1, steps);
                Array.Reverse(linear);
                return roundLinspace ? [.. linear.Select(t => Math.Round(t))] : linear;
            case TimestepSpacing.Leading:
                int ratio = trainSteps / steps;
                return [.. Enumerable.Range(0, steps).Reverse().Select(i => (double)(i * ratio + stepsOffset))];
            default:
                return [.. NumPy.Arange(trainSteps, 0, -(double)trainSteps / steps).Select(t => Math.Round(t) - 1)];
        }
    }
}
