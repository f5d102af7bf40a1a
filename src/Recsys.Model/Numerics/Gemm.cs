using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Recsys.Model.Numerics;

/// <summary>
/// Single-precision matrix multiply on row-major matrices: C = alpha·op(A)·op(B) + beta·C, where op(X) is X or
/// Xᵀ. A is m×k after op, B is k×n after op, C is m×n; lda/ldb/ldc are the row strides of the stored matrices.
/// </summary>
public interface IGemm
{
    string Name { get; }

    void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc);
}

/// <summary>The backend every layer uses: OpenBLAS when it can be loaded, else the managed kernel.</summary>
public static class Gemm
{
    private static readonly Lazy<IGemm> s_default = new(() => OpenBlasGemm.TryCreate() ?? (IGemm)new ManagedGemm());

    public static IGemm Default => s_default.Value;

    /// <summary>Why OpenBLAS is not used, or null when it is.</summary>
    public static string? FallbackReason => Default is ManagedGemm ? OpenBlasGemm.LoadError : null;
}

/// <summary>A plain C# kernel over TensorPrimitives: correct everywhere, slower than OpenBLAS on large products.</summary>
public sealed class ManagedGemm : IGemm
{
    public string Name => "managed";

    public void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        for (var i = 0; i < m; i++)
        {
            var row = c.Slice(i * ldc, n);
            if (beta == 0f)
            {
                row.Clear();
            }
            else if (beta != 1f)
            {
                TensorPrimitives.Multiply(row, beta, row);
            }
        }
        if (!transB)
        {
            // C_i += alpha · Σ_p A[i,p] · B_p  (rows of B, contiguous)
            for (var i = 0; i < m; i++)
            {
                var row = c.Slice(i * ldc, n);
                for (var p = 0; p < k; p++)
                {
                    var aip = alpha * (transA ? a[p * lda + i] : a[i * lda + p]);
                    if (aip != 0f)
                    {
                        TensorPrimitives.MultiplyAdd(b.Slice(p * ldb, n), aip, row, row);
                    }
                }
            }
            return;
        }
        // C[i,j] += alpha · A_i · B_j  (B stored n×k)
        Span<float> column = transA ? new float[k] : [];
        for (var i = 0; i < m; i++)
        {
            ReadOnlySpan<float> ai;
            if (transA)
            {
                for (var p = 0; p < k; p++)
                {
                    column[p] = a[p * lda + i];
                }
                ai = column;
            }
            else
            {
                ai = a.Slice(i * lda, k);
            }
            for (var j = 0; j < n; j++)
            {
                c[i * ldc + j] += alpha * TensorPrimitives.Dot(ai, b.Slice(j * ldb, k));
            }
        }
    }
}

/// <summary>OpenBLAS's cblas_sgemm (Debian: libopenblas0-pthread), found at run time.</summary>
public sealed unsafe class OpenBlasGemm : IGemm
{
    private const int RowMajor = 101;
    private const int NoTrans = 111;
    private const int Trans = 112;

    private readonly delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> _sgemm;
    private readonly delegate* unmanaged<int, void> _setThreads;

    private OpenBlasGemm(nint sgemm, nint setThreads)
    {
        _sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)sgemm;
        _setThreads = (delegate* unmanaged<int, void>)setThreads;
        // As many threads as cores we may use; OpenBLAS would otherwise also count the other processes' cores.
        UseThreads(Environment.ProcessorCount);
    }

    /// <summary>
    /// Threads OpenBLAS splits one product over (process-wide). Training wants all cores in each product; a server
    /// that already runs many products side by side wants 1, or OpenBLAS's spinning threads fight its own.
    /// </summary>
    public void UseThreads(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        if (_setThreads != null)
        {
            _setThreads(threads);
        }
    }

    public string Name => "openblas";

    public static string? LoadError { get; private set; }

    public static OpenBlasGemm? TryCreate()
    {
        foreach (var name in new[] { "libopenblas.so.0", "libopenblas.so", "libopenblas" })
        {
            if (NativeLibrary.TryLoad(name, out var handle) && NativeLibrary.TryGetExport(handle, "cblas_sgemm", out var sgemm))
            {
                NativeLibrary.TryGetExport(handle, "openblas_set_num_threads", out var setThreads);
                return new OpenBlasGemm(sgemm, setThreads);
            }
        }
        LoadError = "OpenBLAS (libopenblas.so.0) was not found, so matrix products use the slower managed kernel; " +
                    "install it with: apt-get install -y libopenblas0-pthread";
        return null;
    }

    public void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        if (m == 0 || n == 0)
        {
            return;
        }
        fixed (float* pa = a, pb = b, pc = c)
        {
            _sgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
        }
    }
}
