from .grounding_data_sample import GroundingDataSample, SampleList

__all__ = ['GroundingDataSample', 'SampleList']
