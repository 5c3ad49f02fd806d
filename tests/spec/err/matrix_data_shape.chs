// Matrix data must be rows of the declared shape (matrix_data_shape.json).
module M(N: int, K: int, A: real[N, K], B: real[2, 2], C: real[2, 2], D: real[2, 2]) -> () { }
