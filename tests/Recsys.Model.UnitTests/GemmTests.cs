using Recsys.Model.Numerics;

namespace Recsys.Model.UnitTests;

public class GemmTests
{
    public static TheoryData<bool, bool> Transposes => new() { { false, false }, { true, false }, { false, true }, { true, true } };

    private static IEnumerable<IGemm> Backends()
    {
        yield return new ManagedGemm();
        if (OpenBlasGemm.TryCreate() is { } openBlas)
        {
            yield return openBlas;
        }
    }

    [Theory]
    [MemberData(nameof(Transposes))]
    public void Every_backend_matches_a_naive_product_with_strides_alpha_and_beta(bool transA, bool transB)
    {
        var random = new Random(1);
        const int m = 7, n = 5, k = 9, lda = 12, ldb = 11, ldc = 8;
        var a = GradientCheck.Random(random, transA ? k : m, lda).Data;
        var b = GradientCheck.Random(random, transB ? n : k, ldb).Data;
        var c0 = GradientCheck.Random(random, m, ldc).Data;
        var expected = (float[])c0.Clone();
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var sum = 0.0;
                for (var p = 0; p < k; p++)
                {
                    sum += (transA ? a[p * lda + i] : a[i * lda + p]) * (double)(transB ? b[j * ldb + p] : b[p * ldb + j]);
                }
                expected[i * ldc + j] = (float)(0.5 * sum + 2.0 * c0[i * ldc + j]);
            }
        }
        foreach (var gemm in Backends())
        {
            var c = (float[])c0.Clone();
            gemm.Multiply(transA, transB, m, n, k, 0.5f, a, lda, b, ldb, 2f, c, ldc);
            for (var i = 0; i < c.Length; i++)
            {
                Assert.True(Math.Abs(c[i] - expected[i]) < 1e-4, $"{gemm.Name}: c[{i}] = {c[i]}, expected {expected[i]}");
            }
        }
    }
}
