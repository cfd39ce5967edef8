// Which errors mean "a dependency is down, try again" (503) rather than a bug (500). Found by the
// chaos run (bench/chaos): after a worker SIGKILL, update-with-start failed with a raw gRPC
// FAILED_PRECONDITION "Workflow Task in failed state", which the API answered with a 500.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dependencyDown } from '../../api/errors';

/** The shape of a @grpc/grpc-js ServiceError: an Error with a numeric status code and metadata. */
function grpcError(code: number, message: string) {
  return Object.assign(new Error(message), { code, details: message, metadata: { get: () => [] } });
}

test('raw gRPC errors from update-with-start: transient statuses are Temporal being unavailable', () => {
  assert.equal(dependencyDown(grpcError(14, '14 UNAVAILABLE: tcp connect error')), 'temporal');
  assert.equal(dependencyDown(grpcError(4, '4 DEADLINE_EXCEEDED: deadline')), 'temporal');
  assert.equal(dependencyDown(grpcError(9, 'Unable to perform workflow execution update due to Workflow Task in failed state.')), 'temporal');
});

test('other gRPC errors stay errors', () => {
  assert.equal(dependencyDown(grpcError(9, 'some other precondition')), null);
  assert.equal(dependencyDown(grpcError(3, '3 INVALID_ARGUMENT: bad')), null);
});

test('database outages are still recognised', () => {
  assert.equal(dependencyDown(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })), 'database');
  assert.equal(dependencyDown(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })), 'database');
  assert.equal(dependencyDown(new Error('plain bug')), null);
});
