"""The JSON bodies of the server's answers (they make the OpenAPI schema)."""

from pydantic import BaseModel, Field


class Box(BaseModel):
    """A face's box in the photo's pixels (after its EXIF orientation is applied)."""

    x: int
    y: int
    w: int
    h: int


class Saliency(BaseModel):
    box: Box = Field(description="the square the face's crop was cut from, clipped to the "
                                 "photo, in the photo's pixels")
    values: list[list[float]] = Field(
        description="the relevance (0-1) of each cell of a grid laid over the box, rows top "
                    "to bottom: where the model's evidence for the emotion lies "
                    "(fer_sklearn.explain)")


class Face(BaseModel):
    box: Box
    score: float | None = Field(
        None, description="BlazeFace's detection probability; null for the Haar cascade, "
                          "which gives none")
    emotion: str = Field(description="the most probable emotion")
    probabilities: dict[str, float] = Field(description="the probability of each emotion")
    saliency: Saliency | None = Field(None, description="only with ?explain=true")


class Analysis(BaseModel):
    width: int = Field(description="the photo's width in pixels, EXIF orientation applied")
    height: int
    faces: list[Face] = Field(description="one per face found, largest first")


class Prediction(BaseModel):
    label: str = Field(description="the most probable emotion")
    probabilities: dict[str, float]


class Predictions(BaseModel):
    predictions: list[Prediction] = Field(description="one per uploaded crop, in their order")


class Model(BaseModel):
    name: str = Field(description="the pretrained model's name, or the model file's name")
    source: str = Field(description="'pretrained' or 'file'")
    emotions: list[str] = Field(description="the labels, in the order of the model's classes")
    input_size: int = Field(description="side of the square grey crops the model is given")


class Models(BaseModel):
    models: list[Model] = Field(description="the model this server answers with")
    detector: str
    min_score: float | None = Field(
        description="faces BlazeFace scores lower are left out (null for the Haar cascade)")


class Health(BaseModel):
    status: str
    in_progress: int = Field(description="requests being answered or waiting for a worker")
    capacity: int = Field(description="requests answered or waiting at most; more get 503")


class Problem(BaseModel):
    detail: str = Field(description="what was wrong, and what to do")
