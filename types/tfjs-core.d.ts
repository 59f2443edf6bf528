// The part of @tensorflow/tfjs-core's types that sbert-tfjs's published declarations use. tfjs-core 4.22's own
// declarations do not type-check without skipLibCheck (they need DOM and WebGL globals, a global `Long`, and
// @webgpu/types, which clashes with TypeScript's DOM lib), so the build points our .d.ts files here instead
// (scripts/types-shim.mjs). At run time these are tfjs-core's own classes and functions; the declarations
// follow tfjs-core's (tensor.d.ts, types.d.ts, ops/*.d.ts), narrowed to what a hook or a cache reader uses.
// test/package/consumer.test.ts type-checks the README's examples against them in a fresh project.

export declare enum Rank {
  R0 = 'R0',
  R1 = 'R1',
  R2 = 'R2',
  R3 = 'R3',
  R4 = 'R4',
  R5 = 'R5',
  R6 = 'R6',
}
export interface ShapeMap {
  R0: number[];
  R1: [number];
  R2: [number, number];
  R3: [number, number, number];
  R4: [number, number, number, number];
  R5: [number, number, number, number, number];
  R6: [number, number, number, number, number, number];
}
export type DataType = 'float32' | 'int32' | 'bool' | 'complex64' | 'string';
export type TypedArray = Float32Array | Int32Array | Uint8Array;
export type ScalarLike = number | boolean | string | Uint8Array;
export type TensorLike = TypedArray | number | boolean | string | RecursiveArray<number | number[] | TypedArray> | RecursiveArray<boolean> | RecursiveArray<string> | Uint8Array[];
export interface RecursiveArray<T> {
  [index: number]: T | RecursiveArray<T>;
}
export type NumericDataType = 'float32' | 'int32' | 'bool' | 'complex64';

/** A tfjs tensor: immutable, on the active backend's memory until `dispose()`. */
export declare class Tensor<R extends Rank = Rank> {
  readonly id: number;
  readonly shape: ShapeMap[R];
  readonly size: number;
  readonly dtype: DataType;
  readonly rankType: R;
  readonly strides: number[];
  get rank(): number;
  get isDisposed(): boolean;
  /** The values, row-major, once the backend has them. */
  data<D extends DataType = NumericDataType>(): Promise<D extends 'int32' ? Int32Array : Float32Array>;
  dataSync<D extends DataType = NumericDataType>(): D extends 'int32' ? Int32Array : Float32Array;
  array(): Promise<ArrayMap[R]>;
  arraySync(): ArrayMap[R];
  dispose(): void;
  clone<T extends Tensor>(this: T): T;
  toString(verbose?: boolean): string;
}
export interface ArrayMap {
  R0: number;
  R1: number[];
  R2: number[][];
  R3: number[][][];
  R4: number[][][][];
  R5: number[][][][][];
  R6: number[][][][][][];
}
export type Scalar = Tensor<Rank.R0>;
export type Tensor1D = Tensor<Rank.R1>;
export type Tensor2D = Tensor<Rank.R2>;
export type Tensor3D = Tensor<Rank.R3>;
export type Tensor4D = Tensor<Rank.R4>;
export type TensorContainer = void | Tensor | string | number | boolean | TensorContainerObject | TensorContainerArray | Float32Array | Int32Array | Uint8Array;
export interface TensorContainerObject {
  [x: string]: TensorContainer;
}
export interface TensorContainerArray extends Array<TensorContainer> {}
export interface TensorInfo {
  dataId: object;
  shape: number[];
  dtype: DataType;
}
export interface NamedTensorInfoMap {
  [name: string]: TensorInfo | undefined;
}
export interface NamedAttrMap {
  [name: string]: unknown;
}
export interface MemoryInfo {
  numTensors: number;
  numDataBuffers: number;
  numBytes: number;
  unreliable?: boolean;
  reasons?: string[];
}

type In = Tensor | TensorLike;
// Element-wise and broadcasting ops return the broadcast shape; like tfjs, callers name the rank they expect.
export declare function add<T extends Tensor>(a: In, b: In): T;
export declare function sub<T extends Tensor>(a: In, b: In): T;
export declare function mul<T extends Tensor>(a: In, b: In): T;
export declare function div<T extends Tensor>(a: In, b: In): T;
export declare function maximum<T extends Tensor>(a: In, b: In): T;
export declare function minimum<T extends Tensor>(a: In, b: In): T;
export declare function equal<T extends Tensor>(a: In, b: In): T;
export declare function greater<T extends Tensor>(a: In, b: In): T;
export declare function less<T extends Tensor>(a: In, b: In): T;
export declare function where<T extends Tensor>(condition: In, a: T | TensorLike, b: T | TensorLike): T;
export declare function abs<T extends Tensor>(x: T | TensorLike): T;
export declare function neg<T extends Tensor>(x: T | TensorLike): T;
export declare function exp<T extends Tensor>(x: T | TensorLike): T;
export declare function log<T extends Tensor>(x: T | TensorLike): T;
export declare function sqrt<T extends Tensor>(x: T | TensorLike): T;
export declare function square<T extends Tensor>(x: T | TensorLike): T;
export declare function softmax<T extends Tensor>(logits: T | TensorLike, dim?: number): T;
export declare function clone<T extends Tensor>(x: T | TensorLike): T;
export declare function sum<T extends Tensor>(x: In, axis?: number | number[], keepDims?: boolean): T;
export declare function mean<T extends Tensor>(x: In, axis?: number | number[], keepDims?: boolean): T;
export declare function max<T extends Tensor>(x: In, axis?: number | number[], keepDims?: boolean): T;
export declare function min<T extends Tensor>(x: In, axis?: number | number[], keepDims?: boolean): T;
export declare function argMax<T extends Tensor>(x: In, axis?: number): T;
export declare function norm(x: In, ord?: number | 'euclidean' | 'fro', axis?: number | number[] | null, keepDims?: boolean): Tensor;
export declare function matMul<T extends Tensor>(a: In, b: In, transposeA?: boolean, transposeB?: boolean): T;
export declare function reshape<R extends Rank>(x: In, shape: ShapeMap[R]): Tensor<R>;
export declare function transpose<T extends Tensor>(x: T | TensorLike, perm?: number[], conjugate?: boolean): T;
export declare function slice<R extends Rank, T extends Tensor<R>>(x: T | TensorLike, begin: number | number[], size?: number | number[]): T;
export declare function gather<T extends Tensor>(x: T | TensorLike, indices: In, axis?: number, batchDims?: number): T;
export declare function concat<T extends Tensor>(tensors: Array<T | TensorLike>, axis?: number): T;
export declare function stack<T extends Tensor>(tensors: Array<T | TensorLike>, axis?: number): Tensor;
export declare function scalar(value: number | boolean | string | Uint8Array, dtype?: DataType): Scalar;
export declare function tensor<R extends Rank>(values: TensorLike, shape?: ShapeMap[R], dtype?: DataType): Tensor<R>;
export declare function tensor1d(values: TensorLike, dtype?: DataType): Tensor1D;
export declare function tensor2d(values: TensorLike, shape?: [number, number], dtype?: DataType): Tensor2D;
export declare function tensor3d(values: TensorLike, shape?: [number, number, number], dtype?: DataType): Tensor3D;
export declare function tensor4d(values: TensorLike, shape?: [number, number, number, number], dtype?: DataType): Tensor4D;
export declare function zeros<R extends Rank>(shape: ShapeMap[R], dtype?: DataType): Tensor<R>;
export declare function ones<R extends Rank>(shape: ShapeMap[R], dtype?: DataType): Tensor<R>;
export declare function zerosLike<T extends Tensor>(x: T | TensorLike): T;
export declare function onesLike<T extends Tensor>(x: T | TensorLike): T;
/** Runs `fn`, disposing every tensor it made except those it returns. */
export declare function tidy<T extends TensorContainer>(nameOrFn: string | (() => T), fn?: () => T): T;
export declare function dispose(container: TensorContainer): void;
export declare function keep<T extends Tensor>(result: T): T;
export declare function memory(): MemoryInfo;
// Automatic differentiation (gradients.d.ts). Inside `f`, BertModel runs on tfjs's plain ops (docs/explain.md).
export declare function grad(f: (x: Tensor) => Tensor): (x: TensorLike | Tensor, dy?: TensorLike | Tensor) => Tensor;
export declare function grads(
  f: (...args: Tensor[]) => Tensor,
): (args: Array<Tensor | TensorLike>, dy?: Tensor | TensorLike) => Tensor[];
export declare function valueAndGrad<I extends Tensor, O extends Tensor>(
  f: (x: I) => O,
): (x: I, dy?: O) => { value: O; grad: I };
export declare function valueAndGrads<O extends Tensor>(
  f: (...args: Tensor[]) => O,
): (args: Tensor[], dy?: O) => { grads: Tensor[]; value: O };
