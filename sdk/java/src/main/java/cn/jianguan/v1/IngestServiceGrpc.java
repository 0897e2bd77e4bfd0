package cn.jianguan.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * IngestService receives provider telemetry. The caller is identified by its credential
 * (bearer token in the `authorization` metadata, or a client certificate); provider_id is never
 * taken from the payload.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class IngestServiceGrpc {

  private IngestServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "jianguan.v1.IngestService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<cn.jianguan.v1.EventBatch,
      cn.jianguan.v1.BatchAck> getPublishMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Publish",
      requestType = cn.jianguan.v1.EventBatch.class,
      responseType = cn.jianguan.v1.BatchAck.class,
      methodType = io.grpc.MethodDescriptor.MethodType.BIDI_STREAMING)
  public static io.grpc.MethodDescriptor<cn.jianguan.v1.EventBatch,
      cn.jianguan.v1.BatchAck> getPublishMethod() {
    io.grpc.MethodDescriptor<cn.jianguan.v1.EventBatch, cn.jianguan.v1.BatchAck> getPublishMethod;
    if ((getPublishMethod = IngestServiceGrpc.getPublishMethod) == null) {
      synchronized (IngestServiceGrpc.class) {
        if ((getPublishMethod = IngestServiceGrpc.getPublishMethod) == null) {
          IngestServiceGrpc.getPublishMethod = getPublishMethod =
              io.grpc.MethodDescriptor.<cn.jianguan.v1.EventBatch, cn.jianguan.v1.BatchAck>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.BIDI_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Publish"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  cn.jianguan.v1.EventBatch.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  cn.jianguan.v1.BatchAck.getDefaultInstance()))
              .setSchemaDescriptor(new IngestServiceMethodDescriptorSupplier("Publish"))
              .build();
        }
      }
    }
    return getPublishMethod;
  }

  private static volatile io.grpc.MethodDescriptor<cn.jianguan.v1.EventBatch,
      cn.jianguan.v1.BatchAck> getPublishBatchMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "PublishBatch",
      requestType = cn.jianguan.v1.EventBatch.class,
      responseType = cn.jianguan.v1.BatchAck.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<cn.jianguan.v1.EventBatch,
      cn.jianguan.v1.BatchAck> getPublishBatchMethod() {
    io.grpc.MethodDescriptor<cn.jianguan.v1.EventBatch, cn.jianguan.v1.BatchAck> getPublishBatchMethod;
    if ((getPublishBatchMethod = IngestServiceGrpc.getPublishBatchMethod) == null) {
      synchronized (IngestServiceGrpc.class) {
        if ((getPublishBatchMethod = IngestServiceGrpc.getPublishBatchMethod) == null) {
          IngestServiceGrpc.getPublishBatchMethod = getPublishBatchMethod =
              io.grpc.MethodDescriptor.<cn.jianguan.v1.EventBatch, cn.jianguan.v1.BatchAck>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "PublishBatch"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  cn.jianguan.v1.EventBatch.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  cn.jianguan.v1.BatchAck.getDefaultInstance()))
              .setSchemaDescriptor(new IngestServiceMethodDescriptorSupplier("PublishBatch"))
              .build();
        }
      }
    }
    return getPublishBatchMethod;
  }

  private static volatile io.grpc.MethodDescriptor<cn.jianguan.v1.GetSessionRequest,
      cn.jianguan.v1.GetSessionResponse> getGetSessionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetSession",
      requestType = cn.jianguan.v1.GetSessionRequest.class,
      responseType = cn.jianguan.v1.GetSessionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<cn.jianguan.v1.GetSessionRequest,
      cn.jianguan.v1.GetSessionResponse> getGetSessionMethod() {
    io.grpc.MethodDescriptor<cn.jianguan.v1.GetSessionRequest, cn.jianguan.v1.GetSessionResponse> getGetSessionMethod;
    if ((getGetSessionMethod = IngestServiceGrpc.getGetSessionMethod) == null) {
      synchronized (IngestServiceGrpc.class) {
        if ((getGetSessionMethod = IngestServiceGrpc.getGetSessionMethod) == null) {
          IngestServiceGrpc.getGetSessionMethod = getGetSessionMethod =
              io.grpc.MethodDescriptor.<cn.jianguan.v1.GetSessionRequest, cn.jianguan.v1.GetSessionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetSession"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  cn.jianguan.v1.GetSessionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  cn.jianguan.v1.GetSessionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new IngestServiceMethodDescriptorSupplier("GetSession"))
              .build();
        }
      }
    }
    return getGetSessionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<cn.jianguan.v1.GetChainHeadsRequest,
      cn.jianguan.v1.GetChainHeadsResponse> getGetChainHeadsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetChainHeads",
      requestType = cn.jianguan.v1.GetChainHeadsRequest.class,
      responseType = cn.jianguan.v1.GetChainHeadsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<cn.jianguan.v1.GetChainHeadsRequest,
      cn.jianguan.v1.GetChainHeadsResponse> getGetChainHeadsMethod() {
    io.grpc.MethodDescriptor<cn.jianguan.v1.GetChainHeadsRequest, cn.jianguan.v1.GetChainHeadsResponse> getGetChainHeadsMethod;
    if ((getGetChainHeadsMethod = IngestServiceGrpc.getGetChainHeadsMethod) == null) {
      synchronized (IngestServiceGrpc.class) {
        if ((getGetChainHeadsMethod = IngestServiceGrpc.getGetChainHeadsMethod) == null) {
          IngestServiceGrpc.getGetChainHeadsMethod = getGetChainHeadsMethod =
              io.grpc.MethodDescriptor.<cn.jianguan.v1.GetChainHeadsRequest, cn.jianguan.v1.GetChainHeadsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetChainHeads"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  cn.jianguan.v1.GetChainHeadsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  cn.jianguan.v1.GetChainHeadsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new IngestServiceMethodDescriptorSupplier("GetChainHeads"))
              .build();
        }
      }
    }
    return getGetChainHeadsMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static IngestServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<IngestServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<IngestServiceStub>() {
        @java.lang.Override
        public IngestServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new IngestServiceStub(channel, callOptions);
        }
      };
    return IngestServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static IngestServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<IngestServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<IngestServiceBlockingV2Stub>() {
        @java.lang.Override
        public IngestServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new IngestServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return IngestServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static IngestServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<IngestServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<IngestServiceBlockingStub>() {
        @java.lang.Override
        public IngestServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new IngestServiceBlockingStub(channel, callOptions);
        }
      };
    return IngestServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static IngestServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<IngestServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<IngestServiceFutureStub>() {
        @java.lang.Override
        public IngestServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new IngestServiceFutureStub(channel, callOptions);
        }
      };
    return IngestServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * IngestService receives provider telemetry. The caller is identified by its credential
   * (bearer token in the `authorization` metadata, or a client certificate); provider_id is never
   * taken from the payload.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Stream batches; one BatchAck per EventBatch, sent once every accepted item of the batch is
     * durably in the event log. Acks may arrive in a different order than the batches.
     * </pre>
     */
    default io.grpc.stub.StreamObserver<cn.jianguan.v1.EventBatch> publish(
        io.grpc.stub.StreamObserver<cn.jianguan.v1.BatchAck> responseObserver) {
      return io.grpc.stub.ServerCalls.asyncUnimplementedStreamingCall(getPublishMethod(), responseObserver);
    }

    /**
     * <pre>
     * One batch, one ack.
     * </pre>
     */
    default void publishBatch(cn.jianguan.v1.EventBatch request,
        io.grpc.stub.StreamObserver<cn.jianguan.v1.BatchAck> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getPublishBatchMethod(), responseObserver);
    }

    /**
     * <pre>
     * Whom the caller's credential names and what the gateway takes from it: a cheap call that
     * checks a credential before reporting (refused with UNAUTHENTICATED as the others are).
     * </pre>
     */
    default void getSession(cn.jianguan.v1.GetSessionRequest request,
        io.grpc.stub.StreamObserver<cn.jianguan.v1.GetSessionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetSessionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Where the caller's chains stand: for a reporter that lost its state (a container's disk),
     * so that it continues each chain instead of starting it again.
     * </pre>
     */
    default void getChainHeads(cn.jianguan.v1.GetChainHeadsRequest request,
        io.grpc.stub.StreamObserver<cn.jianguan.v1.GetChainHeadsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetChainHeadsMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service IngestService.
   * <pre>
   * IngestService receives provider telemetry. The caller is identified by its credential
   * (bearer token in the `authorization` metadata, or a client certificate); provider_id is never
   * taken from the payload.
   * </pre>
   */
  public static abstract class IngestServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return IngestServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service IngestService.
   * <pre>
   * IngestService receives provider telemetry. The caller is identified by its credential
   * (bearer token in the `authorization` metadata, or a client certificate); provider_id is never
   * taken from the payload.
   * </pre>
   */
  public static final class IngestServiceStub
      extends io.grpc.stub.AbstractAsyncStub<IngestServiceStub> {
    private IngestServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected IngestServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new IngestServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Stream batches; one BatchAck per EventBatch, sent once every accepted item of the batch is
     * durably in the event log. Acks may arrive in a different order than the batches.
     * </pre>
     */
    public io.grpc.stub.StreamObserver<cn.jianguan.v1.EventBatch> publish(
        io.grpc.stub.StreamObserver<cn.jianguan.v1.BatchAck> responseObserver) {
      return io.grpc.stub.ClientCalls.asyncBidiStreamingCall(
          getChannel().newCall(getPublishMethod(), getCallOptions()), responseObserver);
    }

    /**
     * <pre>
     * One batch, one ack.
     * </pre>
     */
    public void publishBatch(cn.jianguan.v1.EventBatch request,
        io.grpc.stub.StreamObserver<cn.jianguan.v1.BatchAck> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getPublishBatchMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Whom the caller's credential names and what the gateway takes from it: a cheap call that
     * checks a credential before reporting (refused with UNAUTHENTICATED as the others are).
     * </pre>
     */
    public void getSession(cn.jianguan.v1.GetSessionRequest request,
        io.grpc.stub.StreamObserver<cn.jianguan.v1.GetSessionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetSessionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Where the caller's chains stand: for a reporter that lost its state (a container's disk),
     * so that it continues each chain instead of starting it again.
     * </pre>
     */
    public void getChainHeads(cn.jianguan.v1.GetChainHeadsRequest request,
        io.grpc.stub.StreamObserver<cn.jianguan.v1.GetChainHeadsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetChainHeadsMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service IngestService.
   * <pre>
   * IngestService receives provider telemetry. The caller is identified by its credential
   * (bearer token in the `authorization` metadata, or a client certificate); provider_id is never
   * taken from the payload.
   * </pre>
   */
  public static final class IngestServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<IngestServiceBlockingV2Stub> {
    private IngestServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected IngestServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new IngestServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Stream batches; one BatchAck per EventBatch, sent once every accepted item of the batch is
     * durably in the event log. Acks may arrive in a different order than the batches.
     * </pre>
     */
    @io.grpc.ExperimentalApi("https://github.com/grpc/grpc-java/issues/10918")
    public io.grpc.stub.BlockingClientCall<cn.jianguan.v1.EventBatch, cn.jianguan.v1.BatchAck>
        publish() {
      return io.grpc.stub.ClientCalls.blockingBidiStreamingCall(
          getChannel(), getPublishMethod(), getCallOptions());
    }

    /**
     * <pre>
     * One batch, one ack.
     * </pre>
     */
    public cn.jianguan.v1.BatchAck publishBatch(cn.jianguan.v1.EventBatch request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getPublishBatchMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Whom the caller's credential names and what the gateway takes from it: a cheap call that
     * checks a credential before reporting (refused with UNAUTHENTICATED as the others are).
     * </pre>
     */
    public cn.jianguan.v1.GetSessionResponse getSession(cn.jianguan.v1.GetSessionRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Where the caller's chains stand: for a reporter that lost its state (a container's disk),
     * so that it continues each chain instead of starting it again.
     * </pre>
     */
    public cn.jianguan.v1.GetChainHeadsResponse getChainHeads(cn.jianguan.v1.GetChainHeadsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetChainHeadsMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service IngestService.
   * <pre>
   * IngestService receives provider telemetry. The caller is identified by its credential
   * (bearer token in the `authorization` metadata, or a client certificate); provider_id is never
   * taken from the payload.
   * </pre>
   */
  public static final class IngestServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<IngestServiceBlockingStub> {
    private IngestServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected IngestServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new IngestServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * One batch, one ack.
     * </pre>
     */
    public cn.jianguan.v1.BatchAck publishBatch(cn.jianguan.v1.EventBatch request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getPublishBatchMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Whom the caller's credential names and what the gateway takes from it: a cheap call that
     * checks a credential before reporting (refused with UNAUTHENTICATED as the others are).
     * </pre>
     */
    public cn.jianguan.v1.GetSessionResponse getSession(cn.jianguan.v1.GetSessionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Where the caller's chains stand: for a reporter that lost its state (a container's disk),
     * so that it continues each chain instead of starting it again.
     * </pre>
     */
    public cn.jianguan.v1.GetChainHeadsResponse getChainHeads(cn.jianguan.v1.GetChainHeadsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetChainHeadsMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service IngestService.
   * <pre>
   * IngestService receives provider telemetry. The caller is identified by its credential
   * (bearer token in the `authorization` metadata, or a client certificate); provider_id is never
   * taken from the payload.
   * </pre>
   */
  public static final class IngestServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<IngestServiceFutureStub> {
    private IngestServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected IngestServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new IngestServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * One batch, one ack.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<cn.jianguan.v1.BatchAck> publishBatch(
        cn.jianguan.v1.EventBatch request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getPublishBatchMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Whom the caller's credential names and what the gateway takes from it: a cheap call that
     * checks a credential before reporting (refused with UNAUTHENTICATED as the others are).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<cn.jianguan.v1.GetSessionResponse> getSession(
        cn.jianguan.v1.GetSessionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetSessionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Where the caller's chains stand: for a reporter that lost its state (a container's disk),
     * so that it continues each chain instead of starting it again.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<cn.jianguan.v1.GetChainHeadsResponse> getChainHeads(
        cn.jianguan.v1.GetChainHeadsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetChainHeadsMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_PUBLISH_BATCH = 0;
  private static final int METHODID_GET_SESSION = 1;
  private static final int METHODID_GET_CHAIN_HEADS = 2;
  private static final int METHODID_PUBLISH = 3;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final AsyncService serviceImpl;
    private final int methodId;

    MethodHandlers(AsyncService serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_PUBLISH_BATCH:
          serviceImpl.publishBatch((cn.jianguan.v1.EventBatch) request,
              (io.grpc.stub.StreamObserver<cn.jianguan.v1.BatchAck>) responseObserver);
          break;
        case METHODID_GET_SESSION:
          serviceImpl.getSession((cn.jianguan.v1.GetSessionRequest) request,
              (io.grpc.stub.StreamObserver<cn.jianguan.v1.GetSessionResponse>) responseObserver);
          break;
        case METHODID_GET_CHAIN_HEADS:
          serviceImpl.getChainHeads((cn.jianguan.v1.GetChainHeadsRequest) request,
              (io.grpc.stub.StreamObserver<cn.jianguan.v1.GetChainHeadsResponse>) responseObserver);
          break;
        default:
          throw new AssertionError();
      }
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public io.grpc.stub.StreamObserver<Req> invoke(
        io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_PUBLISH:
          return (io.grpc.stub.StreamObserver<Req>) serviceImpl.publish(
              (io.grpc.stub.StreamObserver<cn.jianguan.v1.BatchAck>) responseObserver);
        default:
          throw new AssertionError();
      }
    }
  }

  public static final io.grpc.ServerServiceDefinition bindService(AsyncService service) {
    return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
        .addMethod(
          getPublishMethod(),
          io.grpc.stub.ServerCalls.asyncBidiStreamingCall(
            new MethodHandlers<
              cn.jianguan.v1.EventBatch,
              cn.jianguan.v1.BatchAck>(
                service, METHODID_PUBLISH)))
        .addMethod(
          getPublishBatchMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              cn.jianguan.v1.EventBatch,
              cn.jianguan.v1.BatchAck>(
                service, METHODID_PUBLISH_BATCH)))
        .addMethod(
          getGetSessionMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              cn.jianguan.v1.GetSessionRequest,
              cn.jianguan.v1.GetSessionResponse>(
                service, METHODID_GET_SESSION)))
        .addMethod(
          getGetChainHeadsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              cn.jianguan.v1.GetChainHeadsRequest,
              cn.jianguan.v1.GetChainHeadsResponse>(
                service, METHODID_GET_CHAIN_HEADS)))
        .build();
  }

  private static abstract class IngestServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    IngestServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return cn.jianguan.v1.IngestProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("IngestService");
    }
  }

  private static final class IngestServiceFileDescriptorSupplier
      extends IngestServiceBaseDescriptorSupplier {
    IngestServiceFileDescriptorSupplier() {}
  }

  private static final class IngestServiceMethodDescriptorSupplier
      extends IngestServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    IngestServiceMethodDescriptorSupplier(java.lang.String methodName) {
      this.methodName = methodName;
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.MethodDescriptor getMethodDescriptor() {
      return getServiceDescriptor().findMethodByName(methodName);
    }
  }

  private static volatile io.grpc.ServiceDescriptor serviceDescriptor;

  public static io.grpc.ServiceDescriptor getServiceDescriptor() {
    io.grpc.ServiceDescriptor result = serviceDescriptor;
    if (result == null) {
      synchronized (IngestServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new IngestServiceFileDescriptorSupplier())
              .addMethod(getPublishMethod())
              .addMethod(getPublishBatchMethod())
              .addMethod(getGetSessionMethod())
              .addMethod(getGetChainHeadsMethod())
              .build();
        }
      }
    }
    return result;
  }
}
